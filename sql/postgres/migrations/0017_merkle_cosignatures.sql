-- Witness cosignatures of the transparency log's checkpoints (C2SP
-- tlog-cosignature): the signature line each witness returned for a
-- checkpoint, served after the log's own signature. One line per witness
-- and checkpoint; a line never changes.

CREATE TABLE merkle_cosignatures (
    size       bigint      NOT NULL REFERENCES merkle_checkpoints (size),
    witness    text        NOT NULL CHECK (length(witness) BETWEEN 1 AND 512),
    line       text        NOT NULL CHECK (length(line) BETWEEN 1 AND 1024),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (size, witness)
);

-- The largest size a witness has cosigned: where its next request starts.
CREATE INDEX merkle_cosignatures_witness ON merkle_cosignatures (witness, size);
