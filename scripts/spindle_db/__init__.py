# spindle_db: the results database (scripts/db) — machines with hardware fingerprints, commits, runs, cases
# and results with every repetition's raw samples, in SQLite (default, results/spindle.db) or PostgreSQL.
