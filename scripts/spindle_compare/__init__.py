# spindle_compare: the statistics and plumbing behind scripts/compare, scripts/history, scripts/ab and
# scripts/calibrate. Importing the package imports nothing heavy; numpy/scipy load with the modules that
# need them, so the scripts can re-exec into the project venv first (see venv.py).
