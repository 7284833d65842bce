"""One partition per edition folder; partitions are added as editions are discovered."""

from dagster import DynamicPartitionsDefinition

editions_partitions = DynamicPartitionsDefinition(name="editions")
