"""MAT, modular adaptive training (papers.md §8): train only the modules whose modular-NTK principal
eigenvalue clears a dynamic threshold, and skip back-propagation into the rest.

- ``controller.MatController``: the trainer option (``before_step`` / ``after_step`` / ``end_epoch``);
- ``mntk.module_lambda_max``: λ_max(J_m J_mᵀ) per module on a probe batch;
- ``flops.FlopCounter``: measured forward and backward FLOPs;
- ``vit.HeadSplitViT`` and ``convnet.SmallConvNet``: models whose modules are heads and blocks;
- ``loop.train`` / ``loop.train_side_by_side``: a small standalone loop for tests and ``report`` (the
  benchmark); side by side, full BP and MAT alternate epochs so that their time ratio is fair.
"""
