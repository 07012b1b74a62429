"""Every business rule of the surveys domain: surveys and their versions
(:mod:`.surveys`) and the responses to them (:mod:`.responses`)."""

from cxloop.surveys.service.responses import (
    Prepared,
    Submission,
    link_profiles,
    list_responses,
    prepare_response,
    submit_many,
    submit_response,
)
from cxloop.surveys.service.surveys import (
    change_status,
    close_expired,
    create_survey,
    definition_of,
    delete_survey,
    get_survey,
    get_version,
    list_surveys,
    survey_detail,
    update_survey,
    version_definition,
)

__all__ = [
    "Prepared",
    "Submission",
    "change_status",
    "close_expired",
    "create_survey",
    "definition_of",
    "delete_survey",
    "get_survey",
    "get_version",
    "link_profiles",
    "list_responses",
    "list_surveys",
    "prepare_response",
    "submit_many",
    "submit_response",
    "survey_detail",
    "update_survey",
    "version_definition",
]
