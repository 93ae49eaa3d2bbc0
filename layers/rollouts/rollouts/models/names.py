"""Name patterns shared by the models, as SageMaker's own (botocore service model: EndpointName, VariantName,
ModelName)."""

NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
