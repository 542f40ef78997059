"""What plugins build on: the tokenizer, model, decoder and dataset contracts, the optional grammar
protocol, configs, errors, atomic writes and plugin discovery."""
