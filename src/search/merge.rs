//! When the index merges its segments.
//!
//! Every commit of the live sync writes a segment, most of them holding the
//! one or two publications an editor just saved. tantivy's default policy
//! leaves such segments alone until eight of a size have piled up, and every
//! query pays for each one: it looks each of its terms up in every field of
//! every segment. On the 50k benchmark archive, five one-document segments
//! beside the big one cost about 5% more CPU per search.
//!
//! So small segments are merged into one as soon as there are two: merging
//! a few hundred documents takes a moment on a background thread. Segments
//! of [`SMALL_SEGMENT_DOCS`] and more are left to tantivy's log-size levels,
//! which also expunge a segment once a fifth of its documents are deleted
//! (edits of published publications delete their old documents).

use tantivy::index::SegmentMeta;
use tantivy::indexer::{LogMergePolicy, MergeCandidate, MergePolicy};

/// Segments with fewer documents than this are merged as soon as two exist.
pub const SMALL_SEGMENT_DOCS: u32 = 1_000;

/// The share of deleted documents past which a bigger segment is rewritten.
const DELETED_SHARE_BEFORE_MERGE: f32 = 0.2;

/// Small segments merged at once; bigger ones by tantivy's log levels.
#[derive(Debug)]
pub struct ArchiveMergePolicy {
    levels: LogMergePolicy,
}

impl Default for ArchiveMergePolicy {
    fn default() -> Self {
        let mut levels = LogMergePolicy::default();
        levels.set_del_docs_ratio_before_merge(DELETED_SHARE_BEFORE_MERGE);
        Self { levels }
    }
}

impl MergePolicy for ArchiveMergePolicy {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let (small, large): (Vec<SegmentMeta>, Vec<SegmentMeta>) = segments
            .iter()
            .cloned()
            .partition(|segment| segment.max_doc() < SMALL_SEGMENT_DOCS);
        let mut candidates = self.levels.compute_merge_candidates(&large);
        if small.len() >= 2 {
            candidates.push(MergeCandidate(small.iter().map(SegmentMeta::id).collect()));
        }
        candidates
    }
}

#[cfg(test)]
mod tests {
    use tantivy::index::SegmentId;
    use tantivy::schema::{Schema, STRING};
    use tantivy::Index;

    use super::*;

    fn segments(index: &Index, sizes: &[u32]) -> Vec<SegmentMeta> {
        sizes
            .iter()
            .map(|&docs| index.new_segment_meta(SegmentId::generate_random(), docs))
            .collect()
    }

    fn merged_sizes(index: &Index, sizes: &[u32]) -> Vec<Vec<u32>> {
        let metas = segments(index, sizes);
        let mut merged: Vec<Vec<u32>> = ArchiveMergePolicy::default()
            .compute_merge_candidates(&metas)
            .into_iter()
            .map(|candidate| {
                let mut sizes: Vec<u32> = candidate
                    .0
                    .iter()
                    .map(|id| {
                        metas
                            .iter()
                            .find(|meta| meta.id() == *id)
                            .expect("a candidate names given segments")
                            .max_doc()
                    })
                    .collect();
                sizes.sort_unstable();
                sizes
            })
            .collect();
        merged.sort();
        merged
    }

    #[test]
    fn small_segments_merge_as_soon_as_there_are_two() {
        let mut schema = Schema::builder();
        schema.add_text_field("id", STRING);
        let index = Index::create_in_ram(schema.build());

        // The archive after a rebuild, then one edit: nothing to merge.
        assert!(merged_sizes(&index, &[48_511]).is_empty());
        assert!(merged_sizes(&index, &[48_511, 1]).is_empty());
        // A second edit: the two small segments merge, the big one stays.
        assert_eq!(merged_sizes(&index, &[48_511, 1, 1]), vec![vec![1, 1]]);
        assert_eq!(
            merged_sizes(&index, &[48_511, 1, 2, 40, 999]),
            vec![vec![1, 2, 40, 999]]
        );
        // Bigger segments still wait for tantivy's levels to fill up.
        assert!(merged_sizes(&index, &[48_511, 5_000, 5_000, 1]).is_empty());
        assert_eq!(
            merged_sizes(&index, &[5_000; 8]),
            vec![vec![5_000; 8]],
            "eight segments of one level merge"
        );
    }
}
