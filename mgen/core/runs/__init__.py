"""Runs: a trained model's directory, loading it, shipped models, fine-tuning, writing its output."""
