"""Train the track embedding, top to bottom: config → data → model → loop → held-out test → export.

    /usr/bin/python3 -m glance_train.faces.train face-track [--set train.epochs=2] [--out RUN] [--no-export]

Self-supervised (VC-TRSF): two views of each track are positives, the other tracks of the same video negatives,
at track level (transformer) and at frame level (frame encoder); the metric head adds the certified-robust
term (papers.md §7) on hardest same-video impostors. Identity labels are used only to evaluate (held-out
synthetic people) and to tune the clustering threshold and pick the epoch on the validation people.

With ``model_config.aggregator = "attention-residual"`` (1.1.0) training has the paper's two phases: the frame
encoder is trained first (frame-level loss only; the average of its embeddings is the baseline), then frozen,
and the track head is trained on top of it, starting from exactly average pooling. Both phases see views with
spoilt frames (``train.corrupt``): the temporal augmentation that teaches the track head which frames to trust.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from glance_train.config import apply_overrides
from glance_train.curves import write_metrics
from glance_train.faces.data import SynthSpec, TrackSet, pad_tracks, real_tracks, synthetic_tracks, vc_batch
from glance_train.faces.losses import frame_vc_contrastive, hardest_impostors, robust_metric_loss, vc_contrastive
from glance_train.faces.metrics import agglomerate, nmi, tune_threshold, wcp
from glance_train.faces.model import FaceTrackConfig, FaceTrackNet, pooled_frame_embedding
from glance_train.seeding import seed_everything

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
REPO_ROOT = Path(__file__).resolve().parents[4]
CHECKPOINT_SCHEMA = 1


def load_config(name_or_path: str, overrides: list[str]) -> dict[str, Any]:
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = CONFIG_DIR / f"{name_or_path}.toml"
    if not path.exists():
        raise FileNotFoundError(f"no experiment {name_or_path!r} ({path} does not exist)")
    return apply_overrides(tomllib.loads(path.read_text()), overrides)


def synth(raw: dict[str, Any]) -> SynthSpec:
    return SynthSpec(
        seed=int(raw["seed"]), identities=int(raw["identities"]), videos=int(raw["videos"]),
        ids_per_video=int(raw["ids_per_video"]), tracks_per_id=tuple(raw["tracks_per_id"]),
        length=tuple(raw["length"]), bad_rate=tuple(raw.get("bad_rate", (0.0, 0.0))),
        switch_rate=float(raw.get("switch_rate", 0.0)),
    )


@torch.no_grad()
def embed(model: FaceTrackNet, data: TrackSet, pooled: bool = False) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(data), 64):
        x, m = pad_tracks(data.crops[i : i + 64], model.cfg.seq_len)
        out.append((pooled_frame_embedding(model, x, m) if pooled else model(x, m)).numpy())
    return np.concatenate(out)


def clustering_scores(emb: np.ndarray, labels: np.ndarray, prefix: str, threshold: float | None) -> dict[str, float]:
    """NMI and WCP with the number of people known; with it unknown (cut at ``threshold``) NMI, WCP, the
    F-score of purity and inverse purity (what the threshold was tuned for) and the people-count error."""
    k = len(np.unique(labels))
    known = agglomerate(emb, n_clusters=k)
    scores = {f"{prefix}_nmi": nmi(labels, known), f"{prefix}_wcp": wcp(labels, known)}
    if threshold is not None:
        cut = agglomerate(emb, threshold=threshold)
        p, ip = wcp(labels, cut), wcp(cut, labels)
        scores[f"{prefix}_nmi_unknown_k"] = nmi(labels, cut)
        scores[f"{prefix}_wcp_unknown_k"] = p
        scores[f"{prefix}_f_unknown_k"] = 2 * p * ip / (p + ip)
        scores[f"{prefix}_people_error"] = float(len(np.unique(cut)) - k)
    return scores


def half_track_nmi(model: FaceTrackNet, data: TrackSet) -> float:
    """Real tracks have no identity labels: split each into halves and ask whether the halves cluster together."""
    halves, labels = [], []
    for i, t in enumerate(data.crops):
        if len(t) >= 8:
            halves += [t[: len(t) // 2], t[len(t) // 2 :]]
            labels += [i, i]
    if not halves:
        return float("nan")
    sub = TrackSet(halves, np.zeros(len(halves), np.int64), np.array(labels), [])
    return nmi(np.array(labels), agglomerate(embed(model, sub), n_clusters=len(set(labels))))


def step_loss(
    model: FaceTrackNet, batch: tuple[torch.Tensor, ...], cfg: dict[str, Any]
) -> tuple[torch.Tensor, dict[str, float]]:
    x1, m1, x2, m2, vids = batch
    tc, mc = cfg["train"], cfg["metric"]
    n, t = m1.shape
    frozen = model.cfg.aggregator == "attention-residual"
    with torch.set_grad_enabled(not frozen):
        f1 = model.frame_features(x1)
        f2 = model.frame_features(x2)
    h1 = model.representation_from(f1, m1)
    h2 = model.representation_from(f2, m2)
    z1 = torch.nn.functional.normalize(model.metric(h1), dim=-1)
    z2 = torch.nn.functional.normalize(model.metric(h2), dim=-1)
    track_l = vc_contrastive(z1, z2, vids, tc["temperature"])
    if frozen:  # the frame encoder was trained in the first phase; no frame loss here
        imp = hardest_impostors(h2.detach(), vids)
        ok = imp >= 0
        metric_l, parts = robust_metric_loss(
            h1[ok], h2[ok], h2[imp[ok]], model.metric.weight, mc["mu"], mc["margin"], mc["lam"], mc["tau"]
        )
        return track_l + mc["weight"] * metric_l, {"track": float(track_l), **parts}
    # frame level: the first view's real frames, labelled by track and video
    keep = m1.reshape(-1) > 0
    fe = torch.nn.functional.normalize(model.frame_head(f1.reshape(n * t, -1)[keep]), dim=-1)
    tracks = torch.arange(n).repeat_interleave(t)[keep]
    frame_l = frame_vc_contrastive(fe, tracks, vids.repeat_interleave(t)[keep], tc["temperature"])
    imp = hardest_impostors(h2.detach(), vids)
    ok = imp >= 0
    metric_l, parts = robust_metric_loss(
        h1[ok], h2[ok], h2[imp[ok]], model.metric.weight, mc["mu"], mc["margin"], mc["lam"], mc["tau"]
    )
    total = track_l + tc["frame_weight"] * frame_l + mc["weight"] * metric_l
    return total, {"track": float(track_l), "frame": float(frame_l), **parts}


def frame_step_loss(model: FaceTrackNet, batch: tuple[torch.Tensor, ...], cfg: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
    """Phase one of the attention-residual recipe: the frame-level video-centralised loss over both views."""
    x1, m1, x2, m2, vids = batch
    x, m = torch.cat([x1, x2]), torch.cat([m1, m2])
    n, t = m.shape
    keep = m.reshape(-1) > 0
    fe = torch.nn.functional.normalize(model.frame_head(model.frame_features(x).reshape(n * t, -1)[keep]), dim=-1)
    tracks = torch.arange(len(x1)).repeat(2).repeat_interleave(t)[keep]
    loss = frame_vc_contrastive(fe, tracks, vids.repeat(2).repeat_interleave(t)[keep], cfg["train"]["temperature"])
    return loss, {"frame": float(loss)}


def pretrain_frames(model: FaceTrackNet, train: TrackSet, val: TrackSet, cfg: dict[str, Any], out: Path) -> dict[str, Any]:
    """Phase one: the frame encoder and its head alone, picked by the validation NMI of their average."""
    # a switch augmentation would label another person's frames as this track's: the head's lesson, not the frames'
    pc = {**cfg["train"], "switch": 0.0, **cfg.get("pretrain", {})}
    params = model.frozen_frame_parameters()
    return _loop(model, params, train, val, cfg, pc, out / "frames_weights.pt", frame_step_loss, pooled=True,
                 seed=int(cfg["seed"]) + 1)


def _loop(model: FaceTrackNet, params: list[torch.nn.Parameter], train: TrackSet, val: TrackSet,
          cfg: dict[str, Any], tc: dict[str, Any], best_path: Path, loss_fn: Any, pooled: bool, seed: int,
          start_as_candidate: bool = False) -> dict[str, Any]:
    opt = torch.optim.AdamW(params, lr=tc["lr"], weight_decay=1e-4)
    total_steps = tc["epochs"] * tc["steps_per_epoch"]
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, tc["lr"], total_steps=total_steps, pct_start=0.15)
    rng = np.random.default_rng(seed)
    history: list[dict[str, float]] = []
    best, best_epoch, since = -1.0, -1, 0
    t0 = time.perf_counter()
    if start_as_candidate:  # the untrained head is average pooling: training must beat it on validation to count
        scores = clustering_scores(embed(model, val, pooled=pooled), val.labels, "val", None)
        history.append({"epoch": -1, "train_loss": float("nan"), **scores})
        print(json.dumps(history[-1]), file=sys.stderr)
        best = scores["val_nmi"]
        torch.save(model.state_dict(), best_path)
    frozen = model.cfg.aggregator == "attention-residual" and not pooled
    for epoch in range(tc["epochs"]):
        model.train()
        if frozen:
            model.frames.eval()  # frozen batch-norm statistics too
        losses: list[float] = []
        bar = tqdm(range(tc["steps_per_epoch"]), desc=f"epoch {epoch}", leave=False, file=sys.stderr)
        for _ in bar:
            batch = vc_batch(train, tc["videos_per_batch"], tc["max_tracks"], model.cfg.seq_len, rng,
                             float(tc.get("corrupt", 0.0)), float(tc.get("switch", 0.0)))
            loss, parts = loss_fn(model, batch, cfg)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss))
            bar.set_postfix(loss=f"{float(loss):.3f}", **{k: f"{v:.3f}" for k, v in parts.items()})
        scores = clustering_scores(embed(model, val, pooled=pooled), val.labels, "val", None)
        row = {"epoch": epoch, "train_loss": float(np.mean(losses)), **scores}
        history.append(row)
        print(json.dumps(row), file=sys.stderr)
        if row["val_nmi"] > best:
            best, best_epoch, since = row["val_nmi"], epoch, 0
            torch.save(model.state_dict(), best_path)
        else:
            since += 1
            if since >= tc["patience"]:
                break
    model.load_state_dict(torch.load(best_path))
    return {"history": history, "best_epoch": best_epoch, "train_seconds": time.perf_counter() - t0}


def fit(model: FaceTrackNet, train: TrackSet, val: TrackSet, cfg: dict[str, Any], out: Path) -> dict[str, Any]:
    tc = cfg["train"]
    if model.cfg.aggregator != "attention-residual":
        return _loop(model, list(model.parameters()), train, val, cfg, tc, out / "best_weights.pt", step_loss,
                     pooled=False, seed=int(cfg["seed"]))
    if cfg.get("pretrain", {}).get("frames_from"):  # phase one of an earlier run with the same data and seed
        model.load_state_dict(torch.load(cfg["pretrain"]["frames_from"]))
        frames = {"history": [], "best_epoch": -1, "train_seconds": 0.0, "frames_from": cfg["pretrain"]["frames_from"]}
    else:
        frames = pretrain_frames(model, train, val, cfg, out)
    for p in model.frozen_frame_parameters():
        p.requires_grad_(False)
    if tc.get("head", "all") == "weights":  # frame weights only: the output stays a convex mix of frame embeddings
        for p in [*model.correction.parameters(), *model.metric.parameters()]:
            p.requires_grad_(False)
    head = [p for p in model.parameters() if p.requires_grad]
    track = _loop(model, head, train, val, cfg, tc, out / "best_weights.pt", step_loss, pooled=False,
                  seed=int(cfg["seed"]), start_as_candidate=True)
    for p in model.parameters():
        p.requires_grad_(True)
    return {**track, "train_seconds": frames["train_seconds"] + track["train_seconds"],
            "frames_history": frames["history"], "frames_best_epoch": frames["best_epoch"]}


def plot(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    e = [h["epoch"] for h in history]
    a.plot(e, [h["train_loss"] for h in history])
    a.set_xlabel("epoch")
    a.set_ylabel("train loss")
    b.plot(e, [h["val_nmi"] for h in history], label="val NMI")
    b.plot(e, [h["val_wcp"] for h in history], label="val WCP")
    b.set_xlabel("epoch")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(cfg: dict[str, Any], out: Path, cache_dir: Path | None) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(cfg["train"].get("threads", 1)))
    seed_everything(int(cfg["seed"]))
    mcfg = FaceTrackConfig(**cfg["model_config"])
    # data
    d = cfg["data"]
    real = real_tracks(list(d.get("real_videos", [])), mcfg.input_size, cache_dir)
    train_syn = synthetic_tracks(synth(d["train"]), mcfg.input_size)
    val = synthetic_tracks(synth(d["val"]), mcfg.input_size, label_offset=100_000)
    test = synthetic_tracks(synth(d["test"]), mcfg.input_size, label_offset=200_000)
    clean = {**d["test"], "bad_rate": [0.0, 0.0]}
    test_clean = synthetic_tracks(synth(clean), mcfg.input_size, label_offset=200_000) if clean != d["test"] else None
    train = TrackSet.concat([train_syn, real]) if len(real) else train_syn
    # model and loop
    model = FaceTrackNet(mcfg)
    result = fit(model, train, val, cfg, out)
    # held-out test: track embedding against the average-pooled frame embedding, the same clustering for both
    threshold, val_nmi_unknown = tune_threshold(embed(model, val), val.labels)
    base_threshold, _ = tune_threshold(embed(model, val, pooled=True), val.labels)
    test_scores = clustering_scores(embed(model, test), test.labels, "test", threshold)
    base_scores = clustering_scores(embed(model, test, pooled=True), test.labels, "test_pooled", base_threshold)
    if test_clean is not None:  # the same people and videos with no bad frames: what the gain depends on
        test_scores |= clustering_scores(embed(model, test_clean), test_clean.labels, "test_clean", threshold)
        base_scores |= clustering_scores(embed(model, test_clean, pooled=True), test_clean.labels,
                                         "test_clean_pooled", base_threshold)
    real_scores = {"real_half_track_nmi": half_track_nmi(model, real)} if len(real) else {}
    dataset = {
        "name": "face-tracks",
        "synthetic": True,
        "real": {
            "videos": d.get("real_videos", []),
            "tracks": len(real),
            "frames": int(sum(len(c) for c in real.crops)),
            "fingerprint": real.fingerprint(),
            "labels": "none (self-supervised; evaluated by half-track NMI)",
        },
        "synthetic_identities": {
            k: {**d[k], "tracks": n} for k, n in (("train", len(train_syn)), ("val", len(val)), ("test", len(test)))
        },
        "fingerprint": train.fingerprint(),
    }
    record = {
        **result,
        "test": {**test_scores, **real_scores},
        "baselines": base_scores,
        "clustering": {"linkage": "average", "metric": "cosine", "threshold": threshold, "val_f": val_nmi_unknown,
                       "pooled_threshold": base_threshold},
        "dataset": dataset,
    }
    write_metrics(out / "metrics.json", record)
    plot(result["history"], out / "curves.png")
    torch.save(
        {
            "schema": CHECKPOINT_SCHEMA,
            "task": "face-track",
            "model": "face-track",
            "model_config": mcfg.to_dict(),
            "experiment": cfg,
            "state_dict": model.state_dict(),
            "held_out": record,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "torch_version": torch.__version__,
            "golden_tracks": [c[: mcfg.seq_len] for c in test.crops[:3]],
        },
        out / "best.pt",
    )
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="glance train face-track")
    p.add_argument("experiment", nargs="?", default="face-track")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--out", type=Path)
    p.add_argument("--cache-dir", type=Path)
    p.add_argument("--no-export", action="store_true")
    p.add_argument("--version")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--world-size", type=int, help="accepted for the CLI's sake; this trainer runs one process")
    p.add_argument("--jobs", type=int, help="accepted for the CLI's sake")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.experiment, args.set)
    except (FileNotFoundError, ValueError, KeyError, tomllib.TOMLDecodeError) as error:
        print(f"glance train: {error}", file=sys.stderr)
        return 2
    out = args.out or REPO_ROOT / "data" / "runs" / f"face-track-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    record = run(cfg, out, args.cache_dir)
    print(f"run: {out}")
    for k, v in {**record["test"], **record["baselines"]}.items():
        print(f"  {k} = {v:.4g}")
    if not args.no_export:
        from glance_train.export import export_after_training
        from glance_train.faces.export import export_face_track

        return export_after_training(
            lambda: export_face_track(out / "best.pt", out / "model", args.version), out / "model"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
