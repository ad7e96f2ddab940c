//! The closed vocabularies: publication kinds and statuses, event kinds and
//! organisation roles, each with its wire name and a label per language.
//! Their wire name is also their stored one: columns holding them are
//! typed (see `db::types`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Lang;

/// Declares a closed vocabulary: wire names, labels per language, parsing.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $variant:ident = $wire:literal => [$en:literal, $sq:literal, $sr_latn:literal, $sr_cyrl:literal] ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( #[doc = $en] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$( $name::$variant ),+];

            /// Returns the wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $wire ),+ }
            }

            /// Returns the human label in a language.
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(
                        ($name::$variant, Lang::En) => $en,
                        ($name::$variant, Lang::Sq) => $sq,
                        ($name::$variant, Lang::SrLatn) => $sr_latn,
                        ($name::$variant, Lang::SrCyrl) => $sr_cyrl,
                    )+
                }
            }

            /// Parses a wire name, listing the allowed ones when it is not one.
            pub fn parse(raw: &str) -> Result<Self, String> {
                super::one_of(raw, &Self::ALL, |value| value.as_str()).copied()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What a publication is.
    PublicationKind {
        Report = "report" => ["Report", "Raport", "Izveštaj", "Извештај"],
        PolicyPaper = "policy_paper" => ["Policy paper", "Dokument politikash", "Analiza politike", "Анализа политике"],
        DiscussionConclusions = "discussion_conclusions" => ["Discussion conclusions", "Përfundimet e diskutimit", "Zaključci diskusije", "Закључци дискусије"],
        MediaMonitoring = "media_monitoring" => ["Media monitoring report", "Raport i monitorimit të medias", "Izveštaj o praćenju medija", "Извештај о праћењу медија"],
    }
}

impl PublicationKind {
    /// Returns the plural label, a listing's heading, in a language.
    pub fn plural(self, lang: Lang) -> &'static str {
        use PublicationKind::{DiscussionConclusions, MediaMonitoring, PolicyPaper, Report};
        match (self, lang) {
            (Report, Lang::En) => "Reports",
            (Report, Lang::Sq) => "Raporte",
            (Report, Lang::SrLatn) => "Izveštaji",
            (Report, Lang::SrCyrl) => "Извештаји",
            (PolicyPaper, Lang::En) => "Policy papers",
            (PolicyPaper, Lang::Sq) => "Dokumente politikash",
            (PolicyPaper, Lang::SrLatn) => "Analize politike",
            (PolicyPaper, Lang::SrCyrl) => "Анализе политике",
            (DiscussionConclusions, Lang::En) => "Discussion conclusions",
            (DiscussionConclusions, Lang::Sq) => "Përfundimet e diskutimeve",
            (DiscussionConclusions, Lang::SrLatn) => "Zaključci diskusija",
            (DiscussionConclusions, Lang::SrCyrl) => "Закључци дискусија",
            (MediaMonitoring, Lang::En) => "Media monitoring reports",
            (MediaMonitoring, Lang::Sq) => "Raporte të monitorimit të medias",
            (MediaMonitoring, Lang::SrLatn) => "Izveštaji o praćenju medija",
            (MediaMonitoring, Lang::SrCyrl) => "Извештаји о праћењу медија",
        }
    }
}

vocabulary! {
    /// Where a publication is in its life: only `published` is public.
    PublicationStatus {
        Draft = "draft" => ["Draft", "Draft", "Nacrt", "Нацрт"],
        Published = "published" => ["Published", "Publikuar", "Objavljeno", "Објављено"],
        Withdrawn = "withdrawn" => ["Withdrawn", "Tërhequr", "Povučeno", "Повучено"],
    }
}

vocabulary! {
    /// What kind of gathering an event was.
    EventKind {
        ExpertDiscussion = "expert_discussion" => ["Expert discussion", "Diskutim me ekspertë", "Ekspertska diskusija", "Експертска дискусија"],
        InformalDiscussion = "informal_discussion" => ["Informal discussion", "Diskutim joformal", "Neformalna diskusija", "Неформална дискусија"],
        Summit = "summit" => ["Summit", "Samit", "Samit", "Самит"],
        FocusGroup = "focus_group" => ["Focus group", "Grup fokusi", "Fokus grupa", "Фокус група"],
        Conference = "conference" => ["Conference", "Konferencë", "Konferencija", "Конференција"],
    }
}

vocabulary! {
    /// What an organisation is to the archive's work.
    Role {
        Funder = "funder" => ["Funder", "Donator", "Donator", "Донатор"],
        Partner = "partner" => ["Partner", "Partner", "Partner", "Партнер"],
        Implementer = "implementer" => ["Implementer", "Zbatues", "Realizator", "Реализатор"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_and_unknown_ones_list_the_allowed() {
        for kind in PublicationKind::ALL {
            assert_eq!(PublicationKind::parse(kind.as_str()), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        let error = PublicationKind::parse("book").err().unwrap_or_default();
        assert!(error.contains("policy_paper"), "{error}");
        assert_eq!(EventKind::Summit.label(Lang::SrCyrl), "Самит");
    }
}
