"""Who spoke when in one mixed channel: VAD regions → window embeddings → clusters → frames.

1. **Speech regions** from the Silero VAD that faster-whisper ships (short silences of
   150 ms split regions, so most windows hold one voice: people rarely hand over the floor
   without a breath).
2. **Embeddings** (analysis.diarization.encoder) over sliding windows inside each region:
   `window` seconds long, every `hop` seconds; a region shorter than a window (a "mm-hmm"
   in a pause) gets one window of its own length, down to `min_window`.
3. **Clustering** of the windows by cosine distance (k-means on the unit vectors,
   numpy `kmeans`, scikit-learn's algorithm). The number of speakers grows from
   `min_speakers` while one more cluster keeps every pair of centroids more than
   `split_distance` apart and at least `split_ratio` of the closest pair's distance
   before, up to `max_speakers`: two by default,
   three or four on a conference or transfer call when the voices say so. Clusters are
   then refined by a few rounds of nearest-centroid reassignment.
4. **Frame scores**: every 10 ms frame of speech gets each speaker's cosine similarity,
   averaged over the windows covering it (weighted to the window centre), so a change
   of speaker inside a region lands between the windows that disagree.
5. **Overlap** (`overlap_detect`, on): the classifier of analysis/diarization/overlap.py
   (trained on the bench's dev calls, plain and overlap-heavy) judges each frame of speech
   overlapped or not; an overlapped frame also gets its second-best speaker
   (`Diarization.second`). Two older rules stay as options, off (each added more false
   alarm than it recovered on the dev calls, bench/data/README.md): a frame whose two best
   speakers score within `overlap_margin`, or that lies within `overlap_change` of a change
   of speaker inside continuous speech.
6. **Telephone band** (`is_narrowband`: no energy above ~3.7 kHz, e.g. 8 kHz calls) uses
   the `nb_*` overrides: the VAD threshold 0.35 instead of 0.5, since Silero scores
   band-limited voice as less speech-like (it missed 8 % of the dev calls' 8 kHz speech).

Words are attributed in analysis.diarization.words (time overlap with the frame scores).
Pure numpy after the two models; `bench/diarization.py` measures it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.diarization.encoder import HOP, SAMPLE_RATE, VoiceEncoder, mel_frames

FRAME = HOP / SAMPLE_RATE  # 10 ms


@dataclass
class DiarizeOptions:
    """Knobs of the diarizer; defaults chosen on the bench's dev set (bench/data/README.md)."""

    min_speakers: int = 2
    max_speakers: int = 4
    window: float = 1.2
    hop: float = 0.4
    min_window: float = 0.25
    cluster_min_window: float = 0.8  # shorter windows are placed by centroid, not clustered
    split_distance: float = 0.15  # cosine distance: a further speaker must be this far away
    split_ratio: float = 0.75  # ... and at least this share of the closest distance before
    min_speaker_share: float = 0.08  # an extra speaker needs this share of the speech windows
    #: overlapped-speech detection (analysis/diarization/overlap.py): frames the shipped
    #: classifier judges overlapped also get their second-best speaker
    overlap_detect: bool = True
    overlap_threshold: float = 0.0  # 0 = the model file's own threshold (chosen on dev)
    overlap_margin: float = 0.0  # 0 = no overlap marking
    #: seconds around a change of speaker inside continuous speech marked as both (0 = off)
    overlap_change: float = 0.0
    vad_min_silence_ms: int = 150
    vad_pad_ms: int = 30
    vad_threshold: float = 0.5  # Silero speech probability
    #: telephone-band audio (nothing above ~3.6 kHz, `is_narrowband`) uses these instead
    #: where set (0 = as wideband): the VAD and the encoder see less of each voice there
    nb_vad_threshold: float = 0.35  # dev: 0.5 missed 8.4 % of 8 kHz speech, 0.2 added 7.5 % false alarm
    nb_vad_pad_ms: int = 0
    nb_window: float = 0.0


@dataclass
class Diarization:
    """The result for one call: per-frame speaker scores and the speakers' voiceprints."""

    n_speakers: int
    #: (n_frames, n_speakers) cosine similarity of each 10 ms frame to each speaker; NaN off speech
    scores: np.ndarray
    speech: np.ndarray  # (n_frames,) bool
    centroids: np.ndarray  # (n_speakers, 256) unit vectors
    #: seconds of speech per speaker (frames where that speaker scores best)
    talk_seconds: list[float] = field(default_factory=list)
    regions: list[tuple[float, float]] = field(default_factory=list)
    #: (n_frames,) a second speaker also talking in that frame (-1: none), `overlap_change`
    second: np.ndarray | None = None
    narrowband: bool = False
    #: (n_frames, len(overlap.FEATURES)) the overlap classifier's inputs, when computed
    overlap_features: np.ndarray | None = None
    #: (n_frames, n_speakers) scores from the overlap step's short windows, when computed
    short_scores: np.ndarray | None = None

    def overlap_seconds(self) -> float:
        """Seconds of speech where a second speaker was marked as talking too."""
        if self.second is None:
            return 0.0
        return round(float((self.speech & (self.second >= 0)).sum()) * FRAME, 2)

    def labels(self) -> np.ndarray:
        """Best speaker per frame (-1 off speech)."""
        lab = np.full(len(self.speech), -1, dtype=np.int64)
        if self.n_speakers:
            lab[self.speech] = np.nanargmax(self.scores[self.speech], axis=1)
        return lab

    def segments(self, overlap_margin: float = 0.0) -> list[tuple[float, float, int]]:
        """(start, end, speaker) stretches, the hypothesis scored by DER.

        With `overlap_margin` > 0 a frame also counts for its second speaker when that one
        scores within the margin (both voices in the window).
        """
        lab = self.labels()
        active = np.zeros((len(lab), max(self.n_speakers, 1)), dtype=bool)
        on = lab >= 0
        active[np.flatnonzero(on), lab[on]] = True
        if self.second is not None:
            both = on & (self.second >= 0)
            active[np.flatnonzero(both), self.second[both]] = True
        if overlap_margin > 0 and self.n_speakers >= 2:
            sc = np.where(np.isnan(self.scores), -np.inf, self.scores)
            top2 = np.sort(sc, axis=1)[:, -2:]
            second = np.argsort(sc, axis=1)[:, -2]
            close = on & (top2[:, 1] - top2[:, 0] < overlap_margin)
            active[np.flatnonzero(close), second[close]] = True
        out: list[tuple[float, float, int]] = []
        for spk in range(active.shape[1]):
            col = np.concatenate([[False], active[:, spk], [False]]).astype(np.int8)
            d = np.diff(col)
            for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True):
                out.append((round(s * FRAME, 3), round(e * FRAME, 3), spk))
        return sorted(out)


def is_narrowband(power_spectrum_mel: np.ndarray, *, above_hz: float = 3700.0, share: float = 1e-3) -> bool:
    """Telephone-band audio (8 kHz at the source, resampled): the mel bands above
    `above_hz` hold less than `share` of the speech energy (wideband speech has a few %)."""
    from analysis.diarization.encoder import mel_frequencies

    if power_spectrum_mel.size == 0:
        return False
    freqs = mel_frequencies(power_spectrum_mel.shape[1] + 2, fmax=SAMPLE_RATE / 2)[1:-1]
    total = float(power_spectrum_mel.sum())
    return total > 0 and float(power_spectrum_mel[:, freqs > above_hz].sum()) / total < share


def for_band(opts: DiarizeOptions, narrowband: bool) -> DiarizeOptions:
    """`opts` with the narrowband overrides applied when the audio is telephone band."""
    if not narrowband:
        return opts
    import dataclasses

    return dataclasses.replace(
        opts,
        vad_threshold=opts.nb_vad_threshold or opts.vad_threshold,
        vad_pad_ms=opts.nb_vad_pad_ms or opts.vad_pad_ms,
        window=opts.nb_window or opts.window,
    )


def speech_regions(samples: np.ndarray, opts: DiarizeOptions) -> list[tuple[int, int]]:
    """Speech as (start, end) sample indices, from faster-whisper's Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    ts = get_speech_timestamps(
        samples,
        VadOptions(threshold=opts.vad_threshold, min_silence_duration_ms=opts.vad_min_silence_ms,
                   speech_pad_ms=opts.vad_pad_ms, min_speech_duration_ms=100),
    )  # fmt: skip
    return [(int(t["start"]), int(t["end"])) for t in ts]


def _windows(regions_f: list[tuple[int, int]], opts: DiarizeOptions) -> list[tuple[int, int]]:
    win = round(opts.window / FRAME)
    hop = round(opts.hop / FRAME)
    min_len = round(opts.min_window / FRAME)
    out: list[tuple[int, int]] = []
    for s, e in regions_f:
        n = e - s
        if n < min_len:
            continue
        if n <= win:
            out.append((s, e))
            continue
        starts = list(range(s, e - win + 1, hop))
        if starts[-1] + win < e:
            starts.append(e - win)
        out.extend((st, st + win) for st in starts)
    return out


def _refine(emb: np.ndarray, labels: np.ndarray, k: int, weights: np.ndarray, rounds: int = 5) -> np.ndarray:
    """Nearest-centroid reassignment (spherical k-means started from the clustering)."""
    for _ in range(rounds):
        cents = _centroids(emb, labels, k, weights)
        new = np.argmax(emb @ cents.T, axis=1)
        if np.array_equal(new, labels) or len(np.unique(new)) < k:
            break
        labels = new
    return labels


def _centroids(emb: np.ndarray, labels: np.ndarray, k: int, weights: np.ndarray) -> np.ndarray:
    cents = np.zeros((k, emb.shape[1]), dtype=np.float64)
    for j in range(k):
        m = labels == j
        if m.any():
            c = (emb[m] * weights[m, None]).sum(axis=0)
            cents[j] = c / max(np.linalg.norm(c), 1e-8)
    return cents


def kmeans(x: np.ndarray, k: int, n_init: int = 10, seed: int = 0, max_iter: int = 300) -> np.ndarray:
    """Labels of k-means on the rows of `x`: greedy k-means++ starts (2 + log k candidates
    per centre), Lloyd's iterations, the best of `n_init` starts by inertia — the algorithm
    of scikit-learn's `KMeans(n_clusters=k, n_init=10)`, in numpy. Why not scikit-learn:
    importing `sklearn.cluster` (with scipy) cost 1.5-4 CPU s of the first mono call of every
    process (issue 15), for a few hundred 256-d points that numpy clusters in milliseconds.
    """
    rng = np.random.RandomState(seed)
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    sq = (x**2).sum(axis=1)
    trials = 2 + int(np.log(k))
    best_lab, best_inertia = np.zeros(n, dtype=np.int64), np.inf
    for _ in range(n_init):
        centres = [x[rng.randint(n)]]
        closest = ((x - centres[0]) ** 2).sum(axis=1)
        for _c in range(1, k):
            pot = closest.sum()
            if pot <= 0:
                centres.append(x[rng.randint(n)])
                continue
            cand = np.searchsorted(np.cumsum(closest), rng.uniform(size=trials) * pot)
            cand = np.minimum(cand, n - 1)
            d = sq[None, :] - 2 * x[cand] @ x.T + sq[cand, None]
            new = np.minimum(closest[None, :], np.maximum(d, 0))
            j = int(np.argmin(new.sum(axis=1)))
            centres.append(x[cand[j]])
            closest = new[j]
        c = np.array(centres)
        lab = np.full(n, -1, dtype=np.int64)
        for _it in range(max_iter):
            d = sq[:, None] - 2 * x @ c.T + (c**2).sum(axis=1)[None, :]
            new_lab = np.argmin(d, axis=1)
            if np.array_equal(new_lab, lab):
                break
            lab = new_lab
            for j in range(k):
                m = lab == j
                if m.any():
                    c[j] = x[m].mean(axis=0)
                else:  # an empty cluster takes the point farthest from its centre
                    far = int(np.argmax(d[np.arange(n), lab]))
                    c[j] = x[far]
        inertia = float(((x - c[lab]) ** 2).sum())
        if inertia < best_inertia:
            best_lab, best_inertia = lab, inertia
    return best_lab


def cluster(emb: np.ndarray, weights: np.ndarray, opts: DiarizeOptions) -> tuple[np.ndarray, int]:
    """Speaker label per window and the number of speakers (see the module docstring)."""
    n = len(emb)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    if n < 2:
        return np.zeros(n, dtype=np.int64), 1
    k_max = min(opts.max_speakers, n)
    k_min = min(opts.min_speakers, k_max)

    def run(k: int) -> np.ndarray:
        # k-means on the unit vectors (10 seeded starts): average-linkage agglomerative
        # was tried first and split off a handful of odd windows as "the other speaker"
        # when two voices were close (dev set)
        lab = kmeans(emb, k)
        return _refine(emb, lab, k, weights)

    def closest(lab: np.ndarray, k: int) -> float:
        cents = _centroids(emb, lab, k, weights)
        sim = cents @ cents.T
        np.fill_diagonal(sim, -1.0)
        return 1.0 - float(sim.max())

    k = k_min
    labels = run(k)
    spread = closest(labels, k) if k > 1 else 1.0
    # more speakers only when the voices say so: with one more cluster, the two closest
    # clusters must still be far apart, absolutely and compared with the closest pair
    # before (one voice split in two gives a pair much closer than the real voices), and
    # the new cluster must hold a real share of the speech
    while k < k_max:
        cand = run(k + 1)
        share = np.array([weights[cand == j].sum() for j in range(k + 1)]) / weights.sum()
        dist = closest(cand, k + 1)
        if (dist < opts.split_distance or dist < opts.split_ratio * spread
                or share.min() < opts.min_speaker_share):  # fmt: skip
            break
        k, labels, spread = k + 1, cand, dist
    return labels, k


def diarize(samples: np.ndarray, opts: DiarizeOptions | None = None,
            encoder: VoiceEncoder | None = None, *, keep_features: bool = False) -> Diarization:  # fmt: skip
    """Diarize 16 kHz mono float32 audio (see the module docstring).

    `keep_features`: compute and keep the overlap classifier's frame features even when
    detection is off (the bench trains and compares on them)."""
    opts = opts or DiarizeOptions()
    encoder = encoder or VoiceEncoder.shared()
    mel, power = mel_frames(samples)
    narrow = is_narrowband(mel)
    opts = for_band(opts, narrow)
    n_frames = mel.shape[0]
    regions = speech_regions(samples, opts)
    regions_f = [(s // HOP, min(n_frames, -(-e // HOP))) for s, e in regions]
    speech = np.zeros(n_frames, dtype=bool)
    for s, e in regions_f:
        speech[s:e] = True
    wins = _windows(regions_f, opts)
    region_s = [(round(s / SAMPLE_RATE, 3), round(e / SAMPLE_RATE, 3)) for s, e in regions]
    if not wins:
        return Diarization(0, np.full((n_frames, 0), np.nan), speech, np.zeros((0, 256)), [], region_s)
    emb = encoder.embed(mel, power, wins)
    weights = np.array([e - s for s, e in wins], dtype=np.float64)
    # short windows (a back-channel alone in a pause) give noisy embeddings that would form
    # clusters of their own: cluster the long ones, then place the short ones by centroid
    full = weights >= round(opts.cluster_min_window / FRAME)
    if full.sum() < 2:
        full = np.ones(len(wins), dtype=bool)
    labels_full, k = cluster(emb[full], weights[full], opts)
    cents = _centroids(emb[full], labels_full, k, weights[full])
    scores = window_scores_to_frames(wins, emb @ cents.T, n_frames)
    covered = ~np.isnan(scores[:, 0]) if k else np.zeros(n_frames, dtype=bool)
    # speech too short for a window: the nearest covered frame's scores
    gaps = speech & ~covered
    if gaps.any() and covered.any():
        cov_idx = np.flatnonzero(covered)
        for f in np.flatnonzero(gaps):
            j = np.searchsorted(cov_idx, f)
            near = [cov_idx[i] for i in (j - 1, j) if 0 <= i < len(cov_idx)]
            scores[f] = scores[min(near, key=lambda c: abs(c - f))]
    speech &= ~np.isnan(scores).any(axis=1) if k else speech
    d = Diarization(k, scores, speech, cents, [], region_s, narrowband=narrow)
    lab = d.labels()
    d.talk_seconds = [round(float((lab == j).sum()) * FRAME, 2) for j in range(k)]
    if opts.overlap_change > 0 and k >= 2:
        d.second = overlap_at_changes(lab, round(opts.overlap_change / FRAME))
    if k >= 2 and (opts.overlap_detect or keep_features):
        from analysis.diarization import overlap

        short = overlap.short_scores(mel, power, regions_f, cents, encoder)
        d.short_scores = short
        d.overlap_features = overlap.frame_features(samples, mel, power, scores, short, speech,
                                                    regions_f, narrow)  # fmt: skip
        if opts.overlap_detect:
            both = overlap.load_model().detect(d.overlap_features, speech, opts.overlap_threshold or None)
            d.second = second_speaker(scores, short, both, d.second)
    return d


def second_speaker(scores: np.ndarray, short: np.ndarray, both: np.ndarray,
                   prior: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """The second speaker of each frame in `both` (-1 elsewhere, or `prior`'s marking):
    the runner-up of the short-window scores, which see a cut-in that the long ones blur
    (the long ones where no short window reached)."""
    sc = np.where(np.isnan(short), scores, short)
    sc = np.where(np.isnan(sc), -np.inf, sc)
    order = np.argsort(sc, axis=1)
    best = np.argmax(np.where(np.isnan(scores), -np.inf, scores), axis=1)
    # the runner-up among the speakers other than the frame's best (long windows decide best)
    runner = np.where(order[:, -1] == best, order[:, -2], order[:, -1])
    second = prior.copy() if prior is not None else np.full(len(scores), -1, dtype=np.int64)
    second[both] = runner[both]
    return second


def window_scores_to_frames(wins: list[tuple[int, int]], sims: np.ndarray, n_frames: int) -> np.ndarray:
    """(n_frames, k) frame scores from per-window scores `sims` (n_windows, k): each frame
    averages the windows covering it, weighted by a Hann taper so a window counts most at
    its centre (a change of speaker then lands between the windows that disagree); NaN
    where no window covers the frame."""
    k = sims.shape[1] if sims.ndim == 2 else 0
    acc = np.zeros((n_frames, k))
    wsum = np.zeros(n_frames)
    for (s, e), row in zip(wins, sims, strict=True):
        taper = np.hanning(e - s + 2)[1:-1] + 1e-3
        acc[s:e] += taper[:, None] * row[None, :]
        wsum[s:e] += taper
    out = np.full((n_frames, k), np.nan)
    covered = wsum > 0
    out[covered] = acc[covered] / wsum[covered, None]
    return out


def overlap_at_changes(lab: np.ndarray, width: int) -> np.ndarray:
    """The second speaker of frames around each change of speaker inside continuous
    speech (-1 elsewhere): `width` frames centred on the change count for both.

    Why there: in a mono mix two voices overlap where one cuts in or a back-channel lands
    on the end of a turn, i.e. right at a change; the frame scores (1.2 s windows) cannot
    show both inside one frame, but the change shows where the handover was."""
    second = np.full(len(lab), -1, dtype=np.int64)
    half = max(1, width // 2)
    for i in np.flatnonzero((lab[1:] != lab[:-1]) & (lab[1:] >= 0) & (lab[:-1] >= 0)) + 1:
        a, b = int(lab[i - 1]), int(lab[i])
        lo, hi = max(0, i - half), min(len(lab), i + half)
        left = np.arange(lo, i)
        right = np.arange(i, hi)
        left = left[lab[left] == a]
        right = right[lab[right] == b]
        second[left] = b
        second[right] = a
    return second
