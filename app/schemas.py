"""Request and response bodies, and the metadata.json contract they are built from."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


class Feature(BaseModel):
    name: str
    unit: str | None = None


class InputSpec(BaseModel):
    """What a row is: named tabular features, or a 28x28 greyscale image as 784 pixels."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["tabular", "image"]
    n_features: int = Field(gt=0)
    features: list[Feature] | None = None
    shape: list[int] | None = None
    range: list[float] | None = None


class FileDigest(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class ModelMetadata(BaseModel):
    """One version's metadata.json, as written by training and served by GET .../versions/{v}."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    name: str
    version: int = Field(ge=1)
    dataset: str
    algorithm: str
    framework: str
    created_at: datetime
    # Versions with a `signature` (models/README.md) may leave these out: it says more. An
    # imported regressor writes an empty list; a classifier's labels are checked by the signature.
    input: InputSpec | None = None
    class_labels: list[str] | None = None
    metrics: dict[str, Any]
    files: dict[str, FileDigest]
    artifact: str | None = Field(
        None,
        description="The file the server loads, one of `files` (model.onnx, model.tflite; "
        "model.joblib only with SERVING_ALLOW_PICKLE).",
    )
    library_versions: dict[str, str] = {}

    @model_validator(mode="after")
    def _classes_without_signature(self) -> ModelMetadata:
        # With a signature, its task and classes say what the version answers (checked there).
        if getattr(self, "signature", None) is None and len(self.class_labels or []) < 2:
            raise ValueError("class_labels needs at least 2 entries (a classifier)")
        return self


class VersionStatus(BaseModel):
    """One entry of TF Serving's model_version_status."""

    version: str
    state: Literal["AVAILABLE", "END"]
    status: dict[str, str] = Field(description='{"error_code": "OK"|"UNKNOWN", "error_message"}')


class ModelInfo(ModelMetadata):
    """GET /v1/models/{name}[/versions/{version}]: the version's metadata.json, with its state
    as KServe V1 (`ready`) and TF Serving (`model_version_status`) clients read it."""

    ready: bool = Field(True, description="Always true: a version that is not ready gets 503.")
    labels: dict[str, dict[str, Any]] = Field(
        {}, description="The model's labels: production, staging, ... with canary and shadow."
    )
    shadow: list[dict[str, Any]] = Field(
        [],
        description="Running comparisons with shadow versions since the server started: rows "
        "compared, label agreement and mean absolute probability difference (classifiers) or "
        "mean absolute and relative value difference (regressors), dropped, failed.",
    )
    model_version_status: list[VersionStatus] = Field(
        description="Every version of the model: AVAILABLE, or END with why it failed to load."
    )


class FailedVersion(BaseModel):
    version: int
    reason: str


class ModelSummary(BaseModel):
    """One entry of GET /v1/models."""

    name: str
    status: Literal["ready", "failed"]
    reason: str | None = Field(None, description="Why no version is ready (status failed).")
    versions: list[int] = Field(description="Versions loaded and ready to serve.")
    latest_version: int | None
    failed_versions: list[FailedVersion] = []
    dataset: str | None = None
    algorithm: str | None = None
    framework: str | None = None
    input: InputSpec | None = None
    class_labels: list[str] | None = None
    metrics: dict[str, Any] = Field({}, description="Headline metrics of the latest version.")
    labels: dict[str, dict[str, Any]] = Field(
        {}, description="Labels (production, ...): unpinned requests go to production."
    )
    task: Literal["classification", "regression"] | None = Field(
        None, description="What the latest version answers: class labels, or values."
    )


class ModelList(BaseModel):
    models: list[ModelSummary]


class DatasetSummary(BaseModel):
    """One entry of GET /v1/datasets."""

    name: str
    models: list[str] = Field(description="Models whose answering version names this dataset.")
    compared: bool = Field(
        description="Whether python -m training compare wrote its comparison: "
        "GET /v1/datasets/{name}/comparison answers."
    )


class DatasetList(BaseModel):
    datasets: list[DatasetSummary]


class PredictRequest(BaseModel):
    """A batch of rows. Tabular: numbers in feature order, or an object keyed by feature name.
    Image: 784 pixel values, or 28 rows of 28 (0-255, ink bright as in MNIST)."""

    instances: list[Any] = Field(
        min_length=1,
        description="One or more rows.",
        json_schema_extra={
            "items": {
                "anyOf": [
                    {"type": "array", "items": {"type": "number"}},
                    {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                    {"type": "object", "additionalProperties": {"type": "number"}},
                ]
            }
        },
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"instances": [list(IRIS_ROW)]},
                {
                    "instances": [
                        {
                            "sepal_length": 6.7,
                            "sepal_width": 3.0,
                            "petal_length": 5.2,
                            "petal_width": 2.3,
                        }
                    ]
                },
            ]
        }
    )


class Prediction(BaseModel):
    label: str
    class_index: int
    probabilities: dict[str, float]


class PredictResponse(BaseModel):
    model: str
    version: int
    predictions: list[Prediction]

    model_config = ConfigDict(
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {
                    "model": "iris-logistic-regression",
                    "version": 1,
                    "predictions": [
                        {
                            "label": "setosa",
                            "class_index": 0,
                            "probabilities": {"setosa": 0.98, "versicolor": 0.02, "virginica": 0.0},
                        }
                    ],
                }
            ]
        },
    )


class PayloadProblem(BaseModel):
    message: str = Field(description="What went wrong last, such as a folder not writable.")
    count: int = Field(description="Problems since the server started.")
    last: str = Field(description="When the last one happened (UTC).")


class PayloadStatus(BaseModel):
    """Payload capture (SERVING_PAYLOAD_LOG): never a reason to be not ready."""

    sink: str = Field(description="`folder <path>` or `url <scheme://host/path>`.")
    sample: float = Field(description="The fraction of predict requests captured.")
    written: int = Field(description="Captured requests written or sent.")
    dropped: int = Field(description="Captured requests dropped (a full queue, a failing sink).")
    problem: PayloadProblem | None = None


class Health(BaseModel):
    status: Literal["live", "ready"]
    models_ready: int | None = None
    models_failed: int | None = None
    failed: list[str] | None = Field(
        None, description="name/version: reason, for each version that failed to load."
    )
    invalid: list[str] | None = Field(
        None, description="Folders the last scan skipped as not a model or version, and why."
    )
    training: list[str] | None = Field(
        None,
        description="Models a training run (make serve) is still training into the registry "
        "folder; absent when none is.",
    )
    payloads: PayloadStatus | None = Field(
        None, description="Payload capture, when it is on: its sink, counts and last problem."
    )


class ReloadResponse(BaseModel):
    loaded: list[str] = Field(description="name/version of each version newly loaded.")
    failed: list[str] = Field(description="name/version: reason, for each version that failed.")
    removed: list[str] = Field(description="name/version of each version no longer on disk.")
    invalid: list[str] = Field(
        [], description="Folders skipped as not a model or version (odd names, links), and why."
    )


class ErrorBody(BaseModel):
    code: str = Field(examples=["model_not_found"])
    message: str = Field(examples=["No model 'iris' in the registry."])
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    """Every non-2xx response has this body."""

    error: ErrorBody


class Share(BaseModel):
    # Strict: `true` or "2" is not a version, 1.0 not a version number (they were coerced).
    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(ge=1)
    weight: float | None = Field(None, gt=0, le=1, description="canary: share of requests")
    fraction: float | None = Field(None, gt=0, le=1, description="shadow: share scored")


class LabelTarget(BaseModel):
    """What a label points at: one version, with an optional canary or shadow."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"version": 3},
                {"version": 3, "canary": {"version": 4, "weight": 0.1}},
                {"version": 3, "shadow": {"version": 4, "fraction": 1.0}},
            ]
        },
    )

    version: int = Field(ge=1)
    canary: Share | None = None
    shadow: Share | None = None


class LabelsResponse(BaseModel):
    name: str
    labels: dict[str, dict[str, Any]]
