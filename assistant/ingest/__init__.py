"""Ingest: files → cleaned documents → chunks.

``corpus`` finds and reads the files safely, ``formats`` parses each type into blocks, ``cleaning``
normalises them into the text users see and cite, ``chunks`` cuts that text into passages with
exact offsets, ``language`` tells French from English.
"""
