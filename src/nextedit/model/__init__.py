"""The student model: tokenizer, config factory, training data, training loop (and, by H9, the engine).

Heavy dependencies (torch, transformers) are imported inside the modules that need them.
"""
