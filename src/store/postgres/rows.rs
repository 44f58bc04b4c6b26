//! A batch's new rows, written per text rather than per commit: the rows of one text,
//! from every commit of the batch, go as one statement, whose `VALUES (…)` becomes a
//! `SELECT` over `UNNEST` of one array per parameter, so that one prepared statement
//! serves any number of rows and a batch costs a round trip per text, not per row;
//! likewise the batch's inbox events, numbered in the statement that appends them.

use std::collections::{BTreeSet, HashMap};

use sqlx::{postgres::PgArguments, Arguments};

use crate::store::sql::{statement::Statement, writes::INBOX_EVENT_FIELDS, Value};

/// The batch's rows (statements marked [`Statement::row`]) grouped by text, in an order
/// that keeps the order in which every commit first writes each text (a row names only
/// rows written before it, so those of a text first written earlier: a referral's
/// entries follow the referrals, whichever referral of the commit they belong to).
/// `None` when no such order exists (two commits first write two texts in opposite
/// orders); then each commit is written as it stands.
pub fn grouped(commits: &[Vec<Statement>]) -> Option<Vec<Vec<&Statement>>> {
    let mut groups: Vec<Vec<&Statement>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut after: BTreeSet<(usize, usize)> = BTreeSet::new();
    for statements in commits {
        let mut seen = BTreeSet::new();
        let mut previous = None;
        for statement in statements.iter().filter(|s| s.row) {
            let next = groups.len();
            let group = *index.entry(&statement.query.sql).or_insert(next);
            if group == next {
                groups.push(Vec::new());
            }
            groups[group].push(statement);
            if seen.insert(group) {
                if let Some(before) = previous {
                    after.insert((before, group));
                }
                previous = Some(group);
            }
        }
    }
    // Kahn's order, the first text seen first among those ready.
    let mut waiting_on = vec![0_usize; groups.len()];
    for &(_, later) in &after {
        waiting_on[later] += 1;
    }
    let mut order = Vec::with_capacity(groups.len());
    let mut ready: BTreeSet<usize> = (0..groups.len()).filter(|&g| waiting_on[g] == 0).collect();
    while let Some(group) = ready.pop_first() {
        order.push(group);
        for &(_, later) in after.range((group, 0)..=(group, usize::MAX)) {
            waiting_on[later] -= 1;
            if waiting_on[later] == 0 {
                ready.insert(later);
            }
        }
    }
    if order.len() < groups.len() {
        return None;
    }
    let mut groups: Vec<Option<Vec<&Statement>>> = groups.into_iter().map(Some).collect();
    Some(order.into_iter().filter_map(|g| groups[g].take()).collect())
}

/// The statement that writes `rows` (of one text, two or more) at once, and its
/// arguments; `None` if the text has no `VALUES (…)` of parameters alone to repeat, or
/// the rows bind parameters of different types.
pub fn together(rows: &[&Statement]) -> Option<(String, PgArguments)> {
    let (types, arguments) = arrays(rows)?;
    Some((unnested(&rows[0].query.sql, &types)?, arguments))
}

/// The statement that appends `events` (statements that each append one, see
/// [`Statement::advance`]) to their members' inboxes at once: each member's head moved
/// on by its events, which are numbered from it in their order here; it returns each
/// event's id and number. The heads must exist (the batch locked them).
pub fn appended(events: &[&Statement]) -> Option<(String, PgArguments)> {
    let (types, arguments) = arrays(events)?;
    let arrays: Vec<String> = types.iter().enumerate().map(|(i, array)| format!("${}::{array}", i + 1)).collect();
    let columns: Vec<String> = (1..=types.len()).map(|n| format!("c{n}")).collect();
    let fields: Vec<String> = (2..=types.len()).map(|n| format!("e.c{n}")).collect();
    let text = format!(
        "WITH e AS (SELECT u.*, ROW_NUMBER() OVER (PARTITION BY u.c1 ORDER BY u.n) AS k \
         FROM UNNEST({}) WITH ORDINALITY AS u({}, n)), \
         h AS (UPDATE inbox_heads SET last_seq = last_seq + c.n \
         FROM (SELECT c1, COUNT(*) AS n FROM e GROUP BY c1) AS c WHERE member = c.c1 \
         RETURNING member, last_seq - c.n AS was) \
         INSERT INTO inbox_events (member, seq, {INBOX_EVENT_FIELDS}) \
         SELECT e.c1, h.was + e.k, {} FROM e JOIN h ON h.member = e.c1 ORDER BY e.n RETURNING event_id, seq",
        arrays.join(", "),
        columns.join(", "),
        fields.join(", "),
    );
    Some((text, arguments))
}

/// The types of `rows`' parameters as arrays, and the arrays, one per parameter;
/// `None` if the rows bind parameters of different types.
fn arrays(rows: &[&Statement]) -> Option<(Vec<&'static str>, PgArguments)> {
    let types: Vec<&str> = rows.first()?.query.params.iter().map(array_type).collect();
    let same_shape = |s: &&Statement| {
        s.query.params.len() == types.len()
            && s.query.params.iter().zip(&types).all(|(value, &array)| array_type(value) == array)
    };
    if !rows.iter().all(same_shape) {
        return None;
    }
    let mut arguments = PgArguments::default();
    for (position, array) in types.iter().enumerate() {
        let column = rows.iter().map(|s| &s.query.params[position]);
        let added = match *array {
            "int8[]" => {
                arguments.add(column.map(|v| if let Value::Int(v) = v { *v } else { None }).collect::<Vec<_>>())
            }
            "text[]" => arguments
                .add(column.map(|v| if let Value::Text(v) = v { v.as_deref() } else { None }).collect::<Vec<_>>()),
            "bool[]" => arguments.add(column.map(|v| matches!(v, Value::Bool(true))).collect::<Vec<_>>()),
            _ => arguments
                .add(column.map(|v| if let Value::Bytes(v) = v { v.as_slice() } else { &[] }).collect::<Vec<_>>()),
        };
        added.ok()?;
    }
    Some((types, arguments))
}

fn array_type(value: &Value) -> &'static str {
    match value {
        Value::Int(_) => "int8[]",
        Value::Text(_) => "text[]",
        Value::Bool(_) => "bool[]",
        Value::Bytes(_) => "bytea[]",
    }
}

/// `sql` with its `VALUES ($…)` made a `SELECT` over the arrays, one per parameter
/// (`$n` becoming `u.cn`); `None` if the text has none, or parameters outside it.
fn unnested(sql: &str, types: &[&str]) -> Option<String> {
    const VALUES: &str = "VALUES (";
    let open = sql.find(VALUES)?;
    let inner_start = open + VALUES.len();
    let mut depth = 1;
    let close = inner_start
        + sql[inner_start..].char_indices().find_map(|(i, c)| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            (depth == 0).then_some(i)
        })?;
    let (head, inner, tail) = (&sql[..open], &sql[inner_start..close], &sql[close + 1..]);
    if head.contains('$') || tail.contains('$') {
        return None;
    }
    let mut text = String::with_capacity(sql.len() + 24 * types.len());
    text.push_str(head);
    text.push_str("SELECT ");
    let mut rest = inner;
    while let Some(dollar) = rest.find('$') {
        text.push_str(&rest[..dollar]);
        let digits = rest[dollar + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let n: usize = rest[dollar + 1..dollar + 1 + digits].parse().ok()?;
        if n == 0 || n > types.len() {
            return None;
        }
        text.push_str(&format!("u.c{n}"));
        rest = &rest[dollar + 1 + digits..];
    }
    text.push_str(rest);
    text.push_str(" FROM UNNEST(");
    let arrays: Vec<String> = types.iter().enumerate().map(|(i, array)| format!("${}::{array}", i + 1)).collect();
    text.push_str(&arrays.join(", "));
    text.push_str(") AS u(");
    let columns: Vec<String> = (1..=types.len()).map(|n| format!("c{n}")).collect();
    text.push_str(&columns.join(", "));
    text.push(')');
    text.push_str(tail);
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::Query;

    fn row(sql: &'static str) -> Statement {
        Statement::row(Query::new(sql).bind(1_i64))
    }

    fn texts(groups: &[Vec<&Statement>]) -> Vec<(String, usize)> {
        groups.iter().map(|g| (g[0].query.sql.to_string(), g.len())).collect()
    }

    #[test]
    fn rows_of_one_text_are_grouped_in_an_order_every_commit_keeps() {
        let a = || row("INSERT INTO a (x) VALUES ($1)");
        let b = || row("INSERT INTO b (x) VALUES ($1)");
        let c = || row("INSERT INTO c (x) VALUES ($1)");
        let other = Statement::any(Query::new("UPDATE a SET x = 1"));
        // The second commit writes c before a; the first has no c: c must come first.
        let commits = vec![vec![a(), other, b(), b()], vec![c(), a(), b()]];
        let groups = grouped(&commits).expect("an order");
        let expected = [
            ("INSERT INTO c (x) VALUES ($1)", 1),
            ("INSERT INTO a (x) VALUES ($1)", 2),
            ("INSERT INTO b (x) VALUES ($1)", 3),
        ];
        assert_eq!(texts(&groups), expected.map(|(t, n)| (t.to_owned(), n)));
    }

    #[test]
    fn texts_first_written_in_opposite_orders_are_not_grouped() {
        let a = || row("INSERT INTO a (x) VALUES ($1)");
        let b = || row("INSERT INTO b (x) VALUES ($1)");
        assert!(grouped(&[vec![a(), b()], vec![b(), a()]]).is_none());
        // A commit of two referrals, each followed by its entry: referrals first.
        let commits = [vec![a(), b(), a(), b()], vec![a(), b()]];
        let groups = grouped(&commits).expect("an order");
        let expected = [("INSERT INTO a (x) VALUES ($1)", 3), ("INSERT INTO b (x) VALUES ($1)", 3)];
        assert_eq!(texts(&groups), expected.map(|(t, n)| (t.to_owned(), n)));
    }

    #[test]
    fn values_become_a_select_over_one_array_per_parameter() {
        let sql = "INSERT INTO t (a, b, c, d) VALUES ($1, '', coalesce($2, 0), $10) ON CONFLICT (a) DO NOTHING";
        let types =
            ["text[]", "int8[]", "bool[]", "bool[]", "bool[]", "bool[]", "bool[]", "bool[]", "bool[]", "bytea[]"];
        let text = unnested(sql, &types).expect("a text");
        assert!(text.starts_with("INSERT INTO t (a, b, c, d) SELECT u.c1, '', coalesce(u.c2, 0), u.c10 FROM UNNEST($1::text[], $2::int8[], $3::bool[]"));
        assert!(
            text.ends_with("$10::bytea[]) AS u(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) ON CONFLICT (a) DO NOTHING")
        );
        let delete = unnested("DELETE FROM t WHERE (a, b) IN (VALUES ($1, $2))", &["text[]", "int8[]"]);
        assert_eq!(
            delete.as_deref(),
            Some("DELETE FROM t WHERE (a, b) IN (SELECT u.c1, u.c2 FROM UNNEST($1::text[], $2::int8[]) AS u(c1, c2))")
        );
        assert_eq!(unnested("UPDATE t SET a = $1", &["text[]"]), None);
        assert_eq!(unnested("INSERT INTO t (a) VALUES ($2)", &["text[]"]), None);
        assert_eq!(
            unnested("INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET b = $2", &["text[]", "text[]"]),
            None
        );
    }

    #[test]
    fn rows_binding_different_types_are_not_put_together() {
        let sql = "INSERT INTO t (a) VALUES ($1)";
        let (int, text) = (Statement::row(Query::new(sql).bind(1_i64)), Statement::row(Query::new(sql).bind("x")));
        assert!(together(&[&int, &text]).is_none());
        assert!(together(&[&int, &int]).is_some());
    }
}
