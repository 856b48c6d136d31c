"""nextedit: predict a programmer's next edit.

Data flow (one folder per room):
  request → context → prompts → model → edits        (prediction path: schema/, context/, prompts/, model/, predict/, server/)
  examples → stages → datasets → training            (training path: io/, pipeline/, data/, metrics/, model/)
"""

import os as _os

# Torch's OpenMP threads spin on idle cores unless told otherwise; on an editor machine the other
# core is always busy and spinning makes two threads ~15x slower. Must be set before torch starts.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
