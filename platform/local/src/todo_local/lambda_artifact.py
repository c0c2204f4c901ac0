"""The Lambda zip builder, under the name the services' artifact tests import.

The builder lives in ``todo_artifacts.lambda_artifact`` (the ``todo-artifacts``
package, used by ``nox -s build``); this module only re-exports what those
tests use, so they build zips exactly as a deployment does.
"""

from todo_artifacts.lambda_artifact import (
    ArtifactError,
    ArtifactInfo,
    build_lambda_zip,
    describe,
    find_python,
)

__all__ = ["ArtifactError", "ArtifactInfo", "build_lambda_zip", "describe", "find_python"]
