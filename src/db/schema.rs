//! Diesel table definitions, written by hand to match both migration sets.
//!
//! Every column uses a type that both backends share (TEXT, INTEGER, BIGINT),
//! which is what lets one query compile for SQLite and PostgreSQL alike.

diesel::table! {
    organisations (id) {
        id -> Text,
        slug -> Text,
        roles -> Text,
        website -> Nullable<Text>,
        ror -> Nullable<Text>,
        content_hash -> Text,
        created_at -> Text,
        updated_at -> Text,
        image -> Nullable<Text>,
    }
}

diesel::table! {
    fields (id) {
        id -> Text,
        slug -> Text,
        content_hash -> Text,
        created_at -> Text,
        updated_at -> Text,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        slug -> Text,
        starts_on -> Nullable<Text>,
        ends_on -> Nullable<Text>,
        content_hash -> Text,
        created_at -> Text,
        updated_at -> Text,
        image -> Nullable<Text>,
    }
}

diesel::table! {
    project_funders (project_id, organisation_id) {
        project_id -> Text,
        organisation_id -> Text,
        grant_number -> Nullable<Text>,
        position -> Integer,
    }
}

diesel::table! {
    project_partners (project_id, organisation_id) {
        project_id -> Text,
        organisation_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    project_implementers (project_id, organisation_id) {
        project_id -> Text,
        organisation_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    project_fields (project_id, field_id) {
        project_id -> Text,
        field_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        slug -> Text,
        kind -> Text,
        starts_on -> Text,
        ends_on -> Nullable<Text>,
        place -> Nullable<Text>,
        project_id -> Nullable<Text>,
        content_hash -> Text,
        created_at -> Text,
        updated_at -> Text,
        image -> Nullable<Text>,
    }
}

diesel::table! {
    event_organisers (event_id, organisation_id) {
        event_id -> Text,
        organisation_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    texts (owner_id, attribute, lang) {
        owner_id -> Text,
        attribute -> Text,
        lang -> Text,
        value -> Text,
    }
}

diesel::table! {
    publications (id) {
        id -> Text,
        slug -> Text,
        kind -> Text,
        status -> Text,
        withdrawn_reason -> Nullable<Text>,
        published_on -> Nullable<Text>,
        project_id -> Nullable<Text>,
        event_id -> Nullable<Text>,
        authors -> Text,
        keywords -> Text,
        sort_title -> Text,
        content_hash -> Text,
        created_at -> Text,
        updated_at -> Text,
        image -> Nullable<Text>,
    }
}

diesel::table! {
    publication_fields (publication_id, field_id) {
        publication_id -> Text,
        field_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    variants (publication_id, lang) {
        publication_id -> Text,
        lang -> Text,
        title -> Text,
        summary -> Text,
        body -> Text,
        file_sha256 -> Nullable<Text>,
        file_size -> Nullable<BigInt>,
        file_media_type -> Nullable<Text>,
        file_name -> Nullable<Text>,
        file_text -> Nullable<Text>,
        file_text_status -> Nullable<Text>,
        file_text_error -> Nullable<Text>,
        body_format -> Text,
    }
}

diesel::table! {
    changes (seq) {
        seq -> BigInt,
        entity -> Text,
        entity_id -> Text,
        operation -> Text,
        changed_at -> Text,
        event -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        prefix -> Text,
        hash -> Text,
        created_at -> Text,
        revoked_at -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Text,
        key_id -> Text,
        key_name -> Text,
        role -> Text,
        entity -> Text,
        entity_id -> Text,
        operation -> Text,
    }
}

diesel::table! {
    harvest_records (publication_id) {
        publication_id -> Text,
        seq -> BigInt,
        datestamp -> Text,
        deleted -> Bool,
        sets -> Text,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        secret -> Text,
        description -> Text,
        enqueued_through -> BigInt,
        created_at -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> Text,
        seq -> BigInt,
        event -> Text,
        publication_id -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Text,
        last_status -> Nullable<Integer>,
        error_class -> Nullable<Text>,
        created_at -> Text,
        delivered_at -> Nullable<Text>,
    }
}

diesel::table! {
    publication_stats_daily (publication_id, lang, day) {
        publication_id -> Text,
        lang -> Text,
        day -> Text,
        views -> BigInt,
        downloads -> BigInt,
    }
}

diesel::table! {
    publication_stats_totals (publication_id) {
        publication_id -> Text,
        views -> BigInt,
        downloads -> BigInt,
        updated_at -> Text,
    }
}

diesel::table! {
    publication_documents (publication_id, lang) {
        publication_id -> Text,
        lang -> Text,
        content_hash -> Text,
        updated_at -> Text,
        render_key -> Text,
        document -> Binary,
    }
}

diesel::table! {
    idempotency_keys (holder, idempotency_key) {
        holder -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        headers -> Nullable<Text>,
        body -> Nullable<Binary>,
        created_s -> BigInt,
    }
}

diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(publication_stats_daily -> publications (publication_id));
diesel::joinable!(publication_stats_totals -> publications (publication_id));
diesel::joinable!(publication_documents -> publications (publication_id));
diesel::joinable!(project_funders -> projects (project_id));
diesel::joinable!(project_funders -> organisations (organisation_id));
diesel::joinable!(project_partners -> projects (project_id));
diesel::joinable!(project_partners -> organisations (organisation_id));
diesel::joinable!(project_implementers -> projects (project_id));
diesel::joinable!(project_implementers -> organisations (organisation_id));
diesel::joinable!(project_fields -> projects (project_id));
diesel::joinable!(project_fields -> fields (field_id));
diesel::joinable!(events -> projects (project_id));
diesel::joinable!(event_organisers -> events (event_id));
diesel::joinable!(event_organisers -> organisations (organisation_id));
diesel::joinable!(publications -> projects (project_id));
diesel::joinable!(publications -> events (event_id));
diesel::joinable!(publication_fields -> publications (publication_id));
diesel::joinable!(publication_fields -> fields (field_id));
diesel::joinable!(variants -> publications (publication_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    publication_stats_daily,
    publication_stats_totals,
    publication_documents,
    fields,
    projects,
    project_funders,
    project_partners,
    project_implementers,
    project_fields,
    events,
    event_organisers,
    texts,
    publications,
    publication_fields,
    variants,
    changes,
    webhooks,
    webhook_deliveries,
);
