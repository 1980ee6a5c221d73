"""Airflow UI pages that show Wan videos: a "Wan video" tab on each task instance and a "Wan videos"
gallery on each DAG run, served by the API server (Airflow 3.1+)."""
