-- A counter per kind of shared state that every instance keeps a copy of.
-- A change bumps its counter in the transaction that makes it; each
-- instance's background sync reads the counters once a second and reloads
-- its copy when one is newer than the copy's. 'access': channels and roles
-- (the channel snapshot, and the permissions cached sessions carry). A
-- missing row reads as version 0.
CREATE TABLE change_version (
    name    TEXT    PRIMARY KEY,
    version INTEGER NOT NULL
);
