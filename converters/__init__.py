"""Front-ends that translate model files into the edgeml IR (installed as ``edgeml.converters``).

Converters only translate; optimisation belongs to ``edgeml.passes``. Heavy frameworks are optional
extras imported lazily inside the converter that needs them.
"""
