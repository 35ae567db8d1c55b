"""Model families and their registry. Importing this package registers every family."""

from glance_train.keyframe.policy import KeyframePolicy, KeyframePolicyConfig
from glance_train.models.emotion_net import EmotionNetConfig, EyeEmotionNet, ShipEmotionNet
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
from glance_train.tva.model import TvaNet, TvaNetConfig


@register_model("pupil", PupilNetConfig, task="pupil")
def _pupil(config: PupilNetConfig) -> PupilNet:
    return PupilNet(config)


@register_model("tva", TvaNetConfig, task="tva")
def _tva(config: TvaNetConfig) -> TvaNet:
    return TvaNet(config)


@register_model("keyframe", KeyframePolicyConfig, task="keyframe")
def _keyframe(config: KeyframePolicyConfig) -> KeyframePolicy:
    return KeyframePolicy(config)


@register_model("emotion-eye", EmotionNetConfig, task="emotion")
def _emotion_eye(config: EmotionNetConfig) -> EyeEmotionNet:
    return EyeEmotionNet(config)


@register_model("emotion-ship", EmotionNetConfig, task="emotion")
def _emotion_ship(config: EmotionNetConfig) -> ShipEmotionNet:
    return ShipEmotionNet(config)


@register_model("segmentation", SegNetConfig, task="segmentation")
def _segmentation(config: SegNetConfig) -> SegNet:
    return SegNet(config)


__all__ = ["config_dict", "create_model", "list_models", "model_config", "model_entry", "register_model"]
