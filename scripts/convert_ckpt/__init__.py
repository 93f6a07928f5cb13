"""Checkpoint converter: TF1 ResNet-RS checkpoints (tensor bundle V2), timm state dicts and Keras
ResNet-RS weights -> the `resnetrs-weights` HDF5 file of the engine (shared/docs/weights-format.md).

Command line: scripts/convert_ckpt/convert_ckpt.py (see docs/converter.md).
"""

__version__ = "1.0.0"
