#!/usr/bin/env python
"""Write the files DVC reads (params.yaml, pipeline/config/) from conf/train.yaml with its
defaults (= `tabpipe params`).

python scripts/write_params.py            # rewrite them
python scripts/write_params.py --check    # exit 1 if one is stale
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tabpipe.cli.stage import params_main

if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parents[1])
    params_main(sys.argv[1:])
