-- Where each relay (or other feed consumer outside this database) stands:
-- the first feed position it has not yet handled.
CREATE TABLE feed_checkpoints (
    name          text   PRIMARY KEY,
    next_position bigint NOT NULL CHECK (next_position >= 0)
);
