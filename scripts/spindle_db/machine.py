# The machine of a results file: its name and hardware fingerprint, the same text and hash as the
# harness's harness/machine.cpp (which writes context.machine since sweeps record it), so results files
# written before that, and the history file, get the fingerprint they would have had.
import hashlib


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fingerprint_text(context: dict) -> str:
    """fingerprint_text: cpu_model, cores, caches, memory_gib, kernel and virtualization, one `key=value`
    line each (harness/machine.h documents the format)."""
    env = context.get("env") if isinstance(context.get("env"), dict) else {}
    caches = ",".join(f"L{_text(c.get('level'))} {_text(c.get('type'))} {_text(c.get('size'))}/"
                      f"{_text(c.get('num_sharing'))}"
                      for c in context.get("caches") or [] if isinstance(c, dict))
    memory = env.get("memory_bytes")
    memory_gib = str(round(memory / 2 ** 30)) if isinstance(memory, (int, float)) else ""
    return (f"cpu_model={_text(env.get('cpu_model'))}\ncores={_text(env.get('cores'))}\ncaches={caches}\n"
            f"memory_gib={memory_gib}\nkernel={_text(env.get('kernel'))}\n"
            f"virtualization={_text(env.get('virtualization'))}\n")


def machine_identity(context: dict) -> dict:
    """machine_identity: context.machine when the harness wrote it, else the same computed here."""
    recorded = context.get("machine")
    if isinstance(recorded, dict) and recorded.get("fingerprint"):
        return recorded
    env = context.get("env") if isinstance(context.get("env"), dict) else {}
    return {"name": _text(context.get("host_name")) or "unknown",
            "fingerprint": hashlib.sha256(fingerprint_text(context).encode()).hexdigest()[:16],
            "hardware": {"cpu_model": env.get("cpu_model"), "cores": env.get("cores"),
                         "caches": context.get("caches"), "memory_bytes": env.get("memory_bytes"),
                         "kernel": env.get("kernel"), "virtualization": env.get("virtualization")}}
