"""Training the student model, apart from inference (:mod:`nextedit.model`).

* :mod:`~nextedit.training.recipe` — recipes (TOML) and the HF model-config factory
* :mod:`~nextedit.training.batches` — deterministic LM / SFT batch streams
* :mod:`~nextedit.training.synthetic` — synthetic next-edit examples from plain code
* :mod:`~nextedit.training.train` — the loop: phases, checkpoints, exact resume, evaluation
* :mod:`~nextedit.training.gate_calibration` — choosing the serving confidence gate on held-out data

Training sits above prediction and metrics: its evaluation hook runs the real predictor.
"""
