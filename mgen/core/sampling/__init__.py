"""What a trained model does: sample (the engine), continue a primer, score whole pieces."""
