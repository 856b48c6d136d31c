"""nextedit: predict a programmer's next edit.

Data flow (one folder per room):
  request → context → prompts → model → edits        (prediction path: schema/, context/, prompts/, model/, predict/, server/)
  examples → stages → datasets → training            (training path: io/, pipeline/, data/, metrics/, model/)
"""

__version__ = "0.1.0"
