DROP TABLE project_implementers;
