"""From files to training batches: the corpus cache, the split, the vocabulary, windows, augmentation."""
