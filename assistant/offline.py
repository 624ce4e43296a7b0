"""Keep the process offline and silent: no model hub, no telemetry."""

import os

_OFFLINE_ENV = {
    # Hugging Face libraries must never try the hub: weights come from installed packages.
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    # Chroma and Gradio phone home unless told not to.
    "ANONYMIZED_TELEMETRY": "False",
    "CHROMA_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def force_offline() -> None:
    """Set the environment variables that keep every library offline.

    Called on import of :mod:`assistant`, before any third-party library is imported.
    Values already set to a stricter value are overwritten on purpose: offline is not optional.
    """
    os.environ.update(_OFFLINE_ENV)
