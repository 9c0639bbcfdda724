-- Speakers of mono calls (issue #16). An agent's voiceprint is the mean GE2E embedding
-- (analysis/diarization/encoder.py) of that agent's side of stereo calls: 256 numbers,
-- never audio. `seconds` is the speech it was averaged over (new calls are weighted by
-- their own speech); `model` names the encoder so a different one never mixes in.
CREATE TABLE agent_voiceprints (
    agent      VARCHAR PRIMARY KEY,
    model      VARCHAR NOT NULL,
    embedding  FLOAT[] NOT NULL,
    seconds    DOUBLE NOT NULL,
    calls      INTEGER NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- How a call's turns got their speakers: 'channel' (stereo), 'diarization' (mono or mixed
-- stereo, with which cluster is the agent and how sure), 'mono_fallback' (pause heuristic).
-- `evidence` holds numbers and phrase names only (no transcript text).
CREATE TABLE speaker_assignments (
    interaction_id BIGINT PRIMARY KEY,
    method         VARCHAR NOT NULL,
    speakers       INTEGER,
    confidence     DOUBLE,
    evidence       JSON,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
