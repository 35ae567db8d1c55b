"""How much could a track head gain over average pooling, on the VALIDATION people, with a frozen frame encoder?

    /usr/bin/python3 -m glance_train.faces.headroom RUN7/frames_weights.pt RUN8/... [--head-steps 800] --out h.json
    /usr/bin/python3 -m glance_train.faces.headroom RUN7/best.pt ... --fresh 15 16 --out fresh.json

The attention head of the 1.1.0 recipe can only reweight (and correct) the frame embeddings of a frozen encoder.
Before asking which objective teaches it to, this measures whether anything is there to learn:

- ``oracle``: pooling with the generator's bad frames left out (labels the model never sees) — the most that
  down-weighting blurred, occluded, profile or misaligned frames can give;
- ``bad_frame_auc``: can bad frames be told from good ones by how far they sit from the rest of their track;
- ``half_track``: the self-supervised task itself (two disjoint halves of a track; the negatives are the tracks on
  screen with it), solved by plain pooling — a saturated task gives the head nothing to learn;
- ``cosines``: same person in another video against another person in the same video (what clustering needs);
- ``head``: the head trained on cached frame features for ``--head-steps`` steps, once self-supervised (the
  recipe's co-occurrence objective) and once with identity labels across videos (an upper bound a
  self-supervised objective cannot exceed; not a recipe), scored every eighth of the run.

The test people are never loaded here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from glance_train.faces.data import TrackSet, synthetic_tracks
from glance_train.faces.metrics import agglomerate, nmi, wcp
from glance_train.faces.model import FaceTrackConfig, FaceTrackNet
from glance_train.faces.synth_faces import ALL_KINDS
from glance_train.faces.train import load_config, synth


def load_model(path: Path, cfg: dict[str, Any]) -> FaceTrackNet:
    """A phase-one state dict (``frames_weights.pt``) or a training checkpoint (``best.pt``)."""
    state = torch.load(path)
    model = FaceTrackNet(FaceTrackConfig(**cfg["model_config"]))
    model.load_state_dict(state.get("state_dict", state))
    return model.eval()


def even(n: int, seq_len: int) -> np.ndarray:
    """The frames the model sees of an ``n``-frame track (``pad_tracks``' choice)."""
    return np.linspace(0, n - 1, min(seq_len, n)).round().astype(int)


def scores(emb: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    c = agglomerate(emb, n_clusters=len(np.unique(labels)))
    return nmi(labels, c), wcp(labels, c)


def pool(frames: list[torch.Tensor], keep: list[np.ndarray] | None = None) -> np.ndarray:
    """L2-normalised mean of each track's frame embeddings (of the kept ones; all when a track keeps none)."""
    out = []
    for i, f in enumerate(frames):
        k = keep[i] if keep is not None and keep[i].any() else np.ones(len(f), bool)
        out.append(F.normalize(f[torch.from_numpy(k)].mean(0), dim=0))
    return torch.stack(out).numpy()


def oracle(frames: list[torch.Tensor], bad: list[list[str | None]], labels: np.ndarray) -> dict[str, Any]:
    res: dict[str, Any] = {"pooled": scores(pool(frames), labels)}
    res["good_only"] = scores(pool(frames, [np.array([k is None for k in b]) for b in bad]), labels)
    for kind in ALL_KINDS:
        res[f"without_{kind}"] = scores(pool(frames, [np.array([k != kind for k in b]) for b in bad]), labels)
    return res


def bad_frame_auc(frames: list[torch.Tensor], bad: list[list[str | None]]) -> float:
    """ROC AUC of "far from the mean of the rest of its track" as a detector of bad frames."""
    y, s = [], []
    for f, b in zip(frames, bad):
        rest = F.normalize((f.sum(0, keepdim=True) - f) / max(len(f) - 1, 1), dim=1)
        s += (-(f * rest).sum(1)).tolist()
        y += [k is not None for k in b]
    return float(roc_auc_score(y, s))


def half_track(
    frames: list[torch.Tensor], data: TrackSet, rng: np.random.Generator, draws: int = 20
) -> dict[str, float]:
    """Pooled halves (random disjoint split) matched to their own track: top-1 among the tracks on screen with
    it (the objective's negatives) and among every validation track."""
    groups = data.co_occurrence()
    same = groups[:, None] == groups[None]
    in_group, overall = [], []
    for _ in range(draws):
        a, b = [], []
        for f in frames:
            p = rng.permutation(len(f))
            a.append(F.normalize(f[p[: len(f) // 2]].mean(0), dim=0))
            b.append(F.normalize(f[p[len(f) // 2 :]].mean(0), dim=0))
        sim = (torch.stack(a) @ torch.stack(b).T).numpy()
        target = np.arange(len(sim))
        in_group.append(float((np.where(same, sim, -9.0).argmax(1) == target).mean()))
        overall.append(float((sim.argmax(1) == target).mean()))
    return {"top1_among_co_occurring": float(np.mean(in_group)), "top1_among_all": float(np.mean(overall)),
            "co_occurring_tracks_per_track": float(same.sum(1).mean())}


def cosines(emb: np.ndarray, data: TrackSet) -> dict[str, float]:
    sim = emb @ emb.T
    person = data.labels[:, None] == data.labels[None]
    video = data.videos[:, None] == data.videos[None]
    off = ~np.eye(len(emb), dtype=bool)
    return {"same_person_same_video": float(sim[person & video & off].mean()),
            "same_person_other_video": float(sim[person & ~video].mean()),
            "other_person_same_video": float(sim[~person & video].mean()),
            "other_person_other_video": float(sim[~person & ~video].mean())}


def train_head(model: FaceTrackNet, train: TrackSet, val: TrackSet, objective: str, steps: int, seed: int,
               lr: float = 2e-3, temperature: float = 0.1) -> list[tuple[int, float, float]]:
    """The attention head (blocks + frame scores; correction and metric kept at their pooling start) trained on
    cached frozen frame features (the model is trained in place); two disjoint random halves of each track are
    the views. ``objective``:
    ``vc`` = the recipe's (negatives: co-occurring tracks), ``labels`` = identity-supervised across videos."""
    seq = model.cfg.seq_len
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        feats = [model.frame_features(torch.from_numpy(t)[None])[0] for t in train.crops]
        vfeats = [model.frame_features(torch.from_numpy(t)[None])[0] for t in val.crops]

    def pad(fs: list[torch.Tensor], picks: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        x, m = torch.zeros(len(fs), seq, fs[0].shape[-1]), torch.zeros(len(fs), seq)
        for i, (f, p) in enumerate(zip(fs, picks)):
            x[i, : len(p)], m[i, : len(p)] = f[p], 1
        return x, m

    xv, mv = pad(vfeats, [even(len(f), seq) for f in vfeats])

    def val_scores() -> tuple[float, float]:
        with torch.no_grad():
            return scores(F.normalize(model.metric(model.representation_from(xv, mv)), dim=-1).numpy(), val.labels)

    head = [*model.score.parameters(), *model.blocks.parameters(), *model.ln.parameters(), model.cls, model.pos]
    for p in model.parameters():
        p.requires_grad_(False)
    for p in head:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(head, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    groups, labels = torch.tensor(train.co_occurrence()), torch.tensor(train.labels)
    history = [(0, *val_scores())]
    for step in range(steps):
        all_videos = np.unique(train.videos)
        videos = rng.choice(all_videos, min(12, len(all_videos)), replace=False)
        idx = np.flatnonzero(np.isin(train.videos, videos))
        halves = [rng.permutation(len(feats[i])) for i in idx]
        x1, m1 = pad([feats[i] for i in idx], [np.sort(h[: len(h) // 2][:seq]) for h in halves])
        x2, m2 = pad([feats[i] for i in idx], [np.sort(h[len(h) // 2 :][:seq]) for h in halves])
        z1 = F.normalize(model.metric(model.representation_from(x1, m1)), dim=-1)
        z2 = F.normalize(model.metric(model.representation_from(x2, m2)), dim=-1)
        g, lab = groups[idx], labels[idx]
        if objective == "labels":
            pos, valid = lab[:, None] == lab[None], torch.ones(len(idx), len(idx), dtype=torch.bool)
        else:
            pos, valid = torch.eye(len(idx), dtype=torch.bool), g[:, None] == g[None]
        logits = (z1 @ z2.T / temperature).masked_fill(~valid, -1e9)
        loss = -0.5 * sum(((lp * p).sum(1) / p.sum(1)).mean()
                          for lp, p in ((logits.log_softmax(1), pos), (logits.T.log_softmax(1), pos.T)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % max(1, steps // 8) == 0:
            history.append((step + 1, *val_scores()))
    return history


def measure(path: Path, cfg: dict[str, Any], head_steps: int) -> dict[str, Any]:
    plans: list[list[str | None]] = []
    val = synthetic_tracks(synth(cfg["data"]["val"]), 32, label_offset=100_000, plans=plans)
    model = load_model(path, cfg)
    seq = model.cfg.seq_len
    picks = [even(len(t), seq) for t in val.crops]
    with torch.no_grad():
        frames = [model.frame_embeddings(torch.from_numpy(t[p])[None])[0] for t, p in zip(val.crops, picks)]
    bad = [[plan[i] for i in p] for plan, p in zip(plans, picks)]
    out: dict[str, Any] = {
        "frames": str(path),
        "bad_share": float(np.mean([k is not None for b in bad for k in b])),
        "share_by_kind": {kind: float(np.mean([k == kind for b in bad for k in b])) for kind in ALL_KINDS},
        "tracks_with_kind": {kind: float(np.mean([kind in b for b in bad])) for kind in ALL_KINDS},
        "oracle": oracle(frames, bad, val.labels),
        "bad_frame_auc": bad_frame_auc(frames, bad),
        "half_track": half_track(frames, val, np.random.default_rng(0)),
        "cosines": cosines(pool(frames), val),
    }
    if head_steps > 0:
        train = synthetic_tracks(synth(cfg["data"]["train"]), 32)
        out["head"] = {obj: train_head(load_model(path, cfg), train, val, obj, head_steps, int(cfg["seed"]))
                       for obj in ("vc", "labels")}
    return out


def fresh_draws(checkpoint: Path, cfg: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    """A trained run's track embedding against pooling of its own frames on fresh draws of validation-like people
    (the validation spec with another generator seed: new people, never the test pool). An epoch chosen on the
    validation people is chosen on noise too; new people show what is left."""
    from glance_train.faces.train import embed

    ckpt = torch.load(checkpoint)
    model = FaceTrackNet(FaceTrackConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["state_dict"])
    out: dict[str, Any] = {"checkpoint": str(checkpoint)}
    for seed in seeds:
        data = synthetic_tracks(synth({**cfg["data"]["val"], "seed": seed}), model.cfg.input_size, 300_000)
        track, pooled = scores(embed(model, data), data.labels), scores(embed(model, data, pooled=True), data.labels)
        out[str(seed)] = {"tracks": len(data), "track": track, "pooled": pooled,
                          "nmi_gain": track[0] - pooled[0], "wcp_gain": track[1] - pooled[1]}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance_train.faces.headroom")
    p.add_argument("frames", nargs="+", type=Path, help="frames_weights.pt (phase one) or best.pt of a run")
    p.add_argument("--experiment", default="face-track")
    p.add_argument("--head-steps", type=int, default=0)
    p.add_argument("--fresh", type=int, nargs="+", metavar="SEED",
                   help="instead: score trained runs (best.pt) against pooling on validation-like draws of these seeds")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override, e.g. data.val.switch_rate=0.25 (identity switches in the validation draw)")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    missing = [f for f in args.frames if not f.exists()]
    if missing:
        print(f"faces.headroom: {missing[0]} does not exist", file=sys.stderr)
        return 2
    cfg = load_config(args.experiment, args.set)
    if args.fresh:
        if int(cfg["data"]["test"]["seed"]) in args.fresh:
            print("faces.headroom: --fresh must not draw the test pool's seed", file=sys.stderr)
            return 2
        checks = [fresh_draws(f, cfg, args.fresh) for f in args.frames]
        args.out.write_text(json.dumps(checks, indent=2) + "\n")
        for c in checks:
            gains = [c[str(s)]["nmi_gain"] for s in args.fresh]
            print(f"{c['checkpoint']}: NMI gain over pooling " + ", ".join(f"{g:+.4f}" for g in gains))
        return 0
    runs = [measure(f, cfg, args.head_steps) for f in args.frames]
    args.out.write_text(json.dumps(runs, indent=2) + "\n")
    for r in runs:
        o = r["oracle"]
        print(f"{r['frames']}: pooled NMI {o['pooled'][0]:.3f}, bad frames left out {o['good_only'][0]:.3f}, "
              f"bad-frame AUC {r['bad_frame_auc']:.2f}, "
              f"half-track top-1 {r['half_track']['top1_among_co_occurring']:.3f}")
        print("  " + ", ".join(f"without {k}: {o['without_' + k][0]:.3f} ({r['share_by_kind'][k]:.1%} of frames)"
                               for k in ALL_KINDS))
        for obj, hist in r.get("head", {}).items():
            best = max(hist, key=lambda h: h[1])
            print(f"  head ({obj}): start {hist[0][1]:.3f}, best {best[1]:.3f} at step {best[0]}, "
                  f"end {hist[-1][1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
