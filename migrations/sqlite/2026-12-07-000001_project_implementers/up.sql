-- The organisations that carry out a project (usually the archive's own
-- organisation), beside its funders and partners.
CREATE TABLE project_implementers (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    position INTEGER NOT NULL,
    PRIMARY KEY (project_id, organisation_id)
);
CREATE INDEX project_implementers_organisation ON project_implementers (organisation_id);
