"""Stored tables as the API shows them (a page of rows, column statistics, per-class curves,
downloads as Parquet or CSV): one place for run outputs and datasets alike. Not an app: no
models; it sits below the apps that show tables."""
