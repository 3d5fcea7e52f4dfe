#!/usr/bin/env python
"""Thin Hydra entry point: ``python train.py [group=option ...] [key=value ...]``.

Identical to ``tabpipe train``; see ``python train.py --help`` for recipes.
"""

from tabpipe.cli.train import main

if __name__ == "__main__":
    main()
