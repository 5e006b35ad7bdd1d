"""Write the internal schema's SDL to schema/internal.graphql (a test keeps the file current).

.venv/bin/python -m schema.internal.export
"""

from pathlib import Path

from schema.internal.schema import build

SDL_PATH = Path(__file__).resolve().parents[1] / "internal.graphql"

if __name__ == "__main__":
    SDL_PATH.write_text(build().as_str() + "\n", encoding="utf-8")
    print(f"wrote {SDL_PATH}")
