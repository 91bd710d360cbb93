"""The engine: pipeline files, validation, compilation, execution. Plain Python, no Django."""
