"""tabpipe: declarative, config-driven tabular machine learning.

Importing the package is cheap on purpose: no ML library is imported here.
"""

__version__ = "0.1.0"
