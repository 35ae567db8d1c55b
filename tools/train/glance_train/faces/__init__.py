"""Faces: track building from real videos, synthetic identities, the track-embedding transformer (VC-TRSF) and
its metric head with the certified-robust perturbation term (LMNN-PL's closed form)."""
