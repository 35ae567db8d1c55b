"""MemX-style temporal visual attention (TVA): which object the wearer attends to, from scene and gaze.

Modules: ``clips`` (synthetic scenes and gaze scripts), ``gaze_noise`` (eye-tracker error), ``data`` (the
rendered training set), ``model`` (the network), ``baseline`` (eye tracking alone), ``evaluate`` (metrics),
``real_footage`` (vtest.avi with synthetic gaze), ``run`` (train → test → export → report).
"""
