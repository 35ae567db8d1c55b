"""Model families and their registry. Importing this package registers every family."""

from glance_train.models.pupil_net import PupilNet, PupilNetConfig
from glance_train.seg.model import SegNet, SegNetConfig
from glance_train.models.registry import (
    config_dict,
    create_model,
    list_models,
    model_config,
    model_entry,
    register_model,
)


@register_model("pupil", PupilNetConfig, task="pupil")
def _pupil(config: PupilNetConfig) -> PupilNet:
    return PupilNet(config)


@register_model("segmentation", SegNetConfig, task="segmentation")
def _segmentation(config: SegNetConfig) -> SegNet:
    return SegNet(config)


__all__ = ["config_dict", "create_model", "list_models", "model_config", "model_entry", "register_model"]
