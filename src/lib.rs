//! xianjie (衔接): the gRPC hub that carries referrals and feedback between a
//! procuratorate and the partner agencies of its joint meeting.

pub mod domain;
