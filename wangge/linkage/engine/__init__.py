"""The linkage engine: normalising, address parsing and the Splink model, with no Django.

The module above (`wangge.linkage.services`) decrypts what it needs in memory, hands the engine
Arrow tables and stores what comes back; the engine never touches the database or the disk.
"""
