DROP TABLE publication_documents;
