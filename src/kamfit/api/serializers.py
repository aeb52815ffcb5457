"""API representations."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kamfit.api.fields import Flag, Text, Whole
from kamfit.frameworks.models import Framework, FrameworkVersion
from kamfit.orgs.models import Membership, Organisation


class MembershipSerializer(serializers.ModelSerializer):
    organisation: serializers.SlugRelatedField[Organisation] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    organisation_name = Text(source="organisation.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["organisation", "organisation_name", "role"]


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FrameworkVersion
        fields = ["number", "title", "status", "note", "created_at", "published_at"]
        read_only_fields = fields


class ParentSerializer(serializers.Serializer):
    framework = Whole(help_text="The framework this one was copied from")
    version = Whole(help_text="The version number that was copied")


class FrameworkSerializer(serializers.ModelSerializer):
    library = Flag(source="is_library", read_only=True)
    versions = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = Framework
        fields = ["id", "key", "title", "library", "parent", "versions"]
        read_only_fields = fields

    @extend_schema_field(VersionSerializer(many=True))
    def get_versions(self, obj: Framework) -> list[dict[str, object]]:
        """Published versions, and drafts for those who may edit."""
        drafts = bool(self.context.get("show_drafts")) and obj.organisation_id is not None
        versions = [v for v in obj.versions.all() if drafts or v.is_published]
        return list(VersionSerializer(sorted(versions, key=lambda v: v.number), many=True).data)

    @extend_schema_field(ParentSerializer(allow_null=True))
    def get_parent(self, obj: Framework) -> dict[str, object] | None:
        if obj.parent is None:
            return None
        return {"framework": obj.parent.framework_id, "version": obj.parent.number}


class CopySerializer(serializers.Serializer):
    title = Text(max_length=200, required=False, allow_blank=True)


class PublishSerializer(serializers.Serializer):
    note = Text(max_length=300, required=False, allow_blank=True)


class ProblemSerializer(serializers.Serializer):
    location = Text()
    message = Text()


class ValidationResultSerializer(serializers.Serializer):
    valid = Flag()
    problems = ProblemSerializer(many=True)


class ChangeSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["added", "removed", "changed"])
    location = Text()
    before = Text()
    after = Text()
