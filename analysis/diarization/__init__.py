"""Speaker diarization of mono calls and agent/customer assignment (issue #16).

`encoder` (GE2E speaker embeddings, weights from the resemblyzer wheel), `diarize` (VAD
regions → window embeddings → clusters → frame scores), `words` (word speakers, turns),
`assign` (which speaker is the agent), `call` (the whole step for one call, enrolment,
mixed-stereo detection), `der` (diarization error rate for bench/diarization.py),
`persist` (context from and results to the store for the ASR job).
"""
