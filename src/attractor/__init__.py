"""attractor: recurrent neural networks as dynamical systems.

Reconstruct a dynamical system from time series with a recurrent model trained by (generalized)
teacher forcing, measure how faithful it is, and analyse what it learned.
"""

from attractor.data.series import Scaler, TimeSeries
from attractor.errors import AttractorError

__version__ = "0.1.0"

__all__ = ["AttractorError", "Scaler", "TimeSeries", "__version__"]
