"""Backups a business can trust: one verified archive per backup.

An archive (`backup-<id>.tar.zst`, or `.tar` with BACKUP_COMPRESSION off)
holds the database dump, the uploads and, as its last member, a manifest
with the sha256 of every other member. It is written under a temporary
name, fsynced and renamed, so a crash never leaves a file that looks like a
backup. A small `<archive>.json` beside it caches the manifest and the
outcome of the last verification, so listing never reads whole archives.
"""
