"""An in-memory S3 bucket for unit tests of what silver keeps in S3 (no emulator)."""

from __future__ import annotations

import bisect
import io
from typing import Any, Dict, List


class NoSuchKey(Exception):
    pass


class CountingS3:
    """An in-memory S3 bucket (sorted keys) that counts keys listed and bytes read."""

    class exceptions:
        NoSuchKey = NoSuchKey

    def __init__(self) -> None:
        self.keys: List[str] = []
        self.objects: Dict[str, bytes] = {}
        self.listed = 0
        self.read = 0

    def add(self, key: str, body: bytes = b"") -> None:
        if key not in self.objects:
            if not self.keys or key > self.keys[-1]:
                self.keys.append(key)  # bronze arrives in key order: cheap
            else:
                bisect.insort(self.keys, key)
        self.objects[key] = body

    def get_paginator(self, _name: str) -> Any:
        bucket = self

        class Paginator:
            def paginate(self, Bucket: str, Prefix: str, StartAfter: str = "") -> Any:
                i = bisect.bisect_right(bucket.keys, max(StartAfter, Prefix[:-1] if Prefix else ""))
                page: List[Dict[str, Any]] = []
                while i < len(bucket.keys) and bucket.keys[i] < Prefix + "\U0010ffff":
                    key = bucket.keys[i]
                    i += 1
                    if not key.startswith(Prefix):
                        continue
                    bucket.listed += 1
                    page.append({"Key": key, "Size": len(bucket.objects[key])})
                    if len(page) == 1000:
                        yield {"Contents": page}
                        page = []
                yield {"Contents": page}

        return Paginator()

    def get_object(self, Bucket: str, Key: str) -> Any:
        if Key not in self.objects:
            raise NoSuchKey(Key)
        self.read += len(self.objects[Key])
        return {"Body": io.BytesIO(self.objects[Key])}

    def put_object(self, Bucket: str, Key: str, Body: bytes, **_: Any) -> Any:
        self.add(Key, Body)
        return {"ETag": '"x"'}

    def delete_objects(self, Bucket: str, Delete: Dict[str, Any]) -> None:
        for item in Delete["Objects"]:
            if self.objects.pop(item["Key"], None) is not None:
                self.keys.remove(item["Key"])
