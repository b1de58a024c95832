-- What a write-back's calls have achieved so far, for vendors that take one event in several
-- calls (Jira: a comment then a transition; Salesforce: the status then a CaseComment): each
-- call the vendor took is recorded when a later one fails, so a retry resumes after it rather
-- than repeating it (task_sources/outbox.py).
ALTER TABLE source_writebacks ADD COLUMN progress jsonb NOT NULL DEFAULT '{}';
