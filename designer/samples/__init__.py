"""Sample pipeline files shipped with Atelier."""
from pathlib import Path

SAMPLES_DIR = Path(__file__).parent


def sample_pipeline_files() -> list[Path]:
    return sorted(SAMPLES_DIR.glob("*.yaml"))
