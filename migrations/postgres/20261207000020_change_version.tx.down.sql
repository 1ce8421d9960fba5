DROP TABLE IF EXISTS change_version;
